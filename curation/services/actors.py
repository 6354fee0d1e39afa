"""Who acts on a service: a signed-in user, an anonymous request's user, or None (a command or a worker)."""
from django.contrib.auth.models import AnonymousUser, User

Actor = User | AnonymousUser | None


def actor_user(actor: Actor) -> User | None:
    """The user to record as the author, or None when nobody signed in acted."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None
