"""Cursor pagination for every API list: a cursor that does not decode to a position of the ordering field is a
400 invalid_cursor (never a database error), and page_size must be a whole number from 1 to the page's maximum."""
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field, Model, QuerySet
from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request


class ApiCursor(CursorPagination):
    model: type[Model] | None = None

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list[Any] | None:
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None or self.model is None:
            return cursor
        ordering = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
        try:
            field = self.model._meta.get_field(ordering.lstrip("-"))
            if isinstance(field, Field):
                field.to_python(cursor.position)
        except (DjangoValidationError, FieldDoesNotExist, TypeError, ValueError):
            # A hand-made cursor ("p=abc" on an integer ordering): the same answer as any undecodable cursor.
            raise exceptions.NotFound(self.invalid_cursor_message) from None
        return cursor

    def get_page_size(self, request: Request) -> int | None:
        if self.page_size_query_param and self.page_size_query_param in request.query_params:
            raw = request.query_params[self.page_size_query_param]
            maximum = self.max_page_size or self.page_size
            if not raw.isdigit() or not 1 <= int(raw) <= (maximum or int(raw)):
                raise exceptions.ValidationError(
                    {self.page_size_query_param: [f"A whole number from 1 to {maximum}."]}
                )
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size or self.page_size}
        return parameters
