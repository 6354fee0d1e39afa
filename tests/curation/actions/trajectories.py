"""GUI trajectories written in four public action syntaxes, with what each action must become.

Each step is one assistant turn and the (canonical call, state) of every action in it, in order. The
coordinate conventions differ: pixels of the screenshot, [0, 1] and [0, 1000].
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Trajectory:
    name: str
    syntax: str
    image_size: tuple[int, int]
    convention: str
    steps: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]

    @property
    def expected(self) -> list[tuple[str, str]]:
        return [action for _, actions in self.steps for action in actions]

    @property
    def valid_share(self) -> float:
        return sum(1 for _, state in self.expected if state == "valid") / len(self.expected)


V, X, U = "valid", "invalid", "unmapped"

PYAUTOGUI = Trajectory(
    name="desktop pyautogui code",
    syntax="pyautogui code (positional and keyword calls, code fences)",
    image_size=(1920, 1080),
    convention="pixels",
    steps=(
        ("```python\nimport pyautogui\npyautogui.click(960, 540)\n```", (("click(x=0.5, y=0.5)", V),)),
        ("pyautogui.doubleClick(480, 270)", (("double_click(x=0.25, y=0.25)", V),)),
        ("pyautogui.write('Quarterly report, v2 (draft)')", (('type(text="Quarterly report, v2 (draft)")', V),)),
        ("pyautogui.hotkey('ctrl', 's')\npyautogui.click(1440, 810)",
         (('press(keys=["ctrl", "s"])', V), ("click(x=0.75, y=0.75)", V))),
        ("pyautogui.scroll(-5)", (('scroll(direction="down", amount=5.0)', V),)),
        ("pyautogui.rightClick(x=192, y=108)", (("right_click(x=0.1, y=0.1)", V),)),
        ("pyautogui.moveTo(2400, 100)", (("move_mouse(x=1.25, y=0.0926)", X),)),
        ("pyautogui.dragTo(100, 200)", (("drag(from_coord=[0.0521, 0.1852])", X),)),
    ),
)

ANDROIDCONTROL = Trajectory(
    name="AndroidControl JSON actions",
    syntax="AndroidControl-style JSON objects ({\"action_type\": ...})",
    image_size=(1080, 2400),
    convention="pixels",
    steps=(
        ('{"action_type": "open_app", "app_name": "Clock"}', (('open_app(app_name="Clock")', V),)),
        ('{"action_type": "click", "x": 540, "y": 1200}', (("click(x=0.5, y=0.5)", V),)),
        ('{"action_type": "long_press", "x": 270, "y": 600}', (("long_press(x=0.25, y=0.25)", V),)),
        ('{"action_type": "scroll", "direction": "down"}', (('scroll(direction="down", amount=1.0)', V),)),
        ('{"action_type": "input_text", "text": "7:30, weekdays"}', (('type(text="7:30, weekdays")', V),)),
        ('{"action_type": "wait"}', (("wait(seconds=1.0)", V),)),
        ('{"action_type": "navigate_back"}', (("navigate_back()", V),)),
        ('{"action_type": "click", "x": 1300, "y": 100}', (("click(x=1.2037, y=0.0417)", X),)),
        ('{"action_type": "navigate_home"}', (("navigate_home()", V),)),
    ),
)

AGUVIS = Trajectory(
    name="AGUVIS / AITW-style calls",
    syntax="AGUVIS/AITW-style calls (mobile. and pyautogui. prefixes, relative coordinates, prose around)",
    image_size=(1080, 2340),
    convention="relative",
    steps=(
        ('mobile.open_app(app_name="Settings")', (('open_app(app_name="Settings")', V),)),
        ("Thought: the toggle is on the right, (next to 'Wi-Fi').\nAction: pyautogui.click(x=0.41, y=0.22)",
         (("click(x=0.41, y=0.22)", V),)),
        ("mobile.swipe(from_coord=[0.5, 0.8], to_coord=[0.5, 0.2])", (("swipe(from_coord=[0.5, 0.8], to_coord=[0.5, 0.2])", V),)),
        ("mobile.long_press(x=0.3, y=0.6)", (("long_press(x=0.3, y=0.6)", V),)),
        ('pyautogui.write(message="Wi-Fi (5 GHz)")', (('type(text="Wi-Fi (5 GHz)")', V),)),
        ("tap(0.41, 0.22)", (("click(x=0.41, y=0.22)", V),)),
        ("mobile.back()\nmobile.home()", (("navigate_back()", V), ("navigate_home()", V))),
        ("mobile.wait(seconds=2)", (("wait(seconds=2.0)", V),)),
        ("mobile.long_press(x=1.3, y=0.6)", (("long_press(x=1.3, y=0.6)", X),)),
        ('mobile.terminate(status="success")', (('final_answer(answer="success")', V),)),
    ),
)

POINT_TAGS = Trajectory(
    name="point tags (OS-Atlas style)",
    syntax="tag lines (CLICK <point>[[x,y]]</point>, TYPE [text], PRESS_BACK), [0, 1000] coordinates",
    image_size=(800, 600),
    convention="thousand",
    steps=(
        ("actions:\nOPEN_APP [Chrome]", (('open_app(app_name="Chrome")', V),)),
        ("actions:\nCLICK <point>[[523,711]]</point>", (("click(x=0.523, y=0.711)", V),)),
        ("TYPE [hello, (world)]", (('type(text="hello, (world)")', V),)),
        ("SCROLL [DOWN]", (('scroll(direction="down", amount=1.0)', V),)),
        ("LONG_PRESS <point>[[100,900]]</point>", (("long_press(x=0.1, y=0.9)", V),)),
        ("CLICK <point>[[250,500]]</point>\nTYPE [abc]", (("click(x=0.25, y=0.5)", V), ('type(text="abc")', V))),
        ("PRESS_BACK", (("navigate_back()", V),)),
        ("PRESS_HOME", (("navigate_home()", V),)),
        ("ZOOM <point>[[10,20]]</point>", (("ZOOM <point>[[10,20]]</point>", U),)),
        ("COMPLETE", (("final_answer()", X),)),
    ),
)

TRAJECTORIES = (PYAUTOGUI, ANDROIDCONTROL, AGUVIS, POINT_TAGS)
