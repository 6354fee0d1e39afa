"""Build the demo GUI source (run by hand: python curation/demo/make_gui_demo.py).

Drawn mock screenshots (a desktop editor, a phone settings screen, a phone clock app) and short trajectories in
four public action syntaxes: pyautogui code in pixels, AndroidControl-style JSON in pixels, AGUVIS-style
mobile./pyautogui. calls in [0, 1], and OS-Atlas-style point tags in [0, 1000]. ShareGPT layout; the images
are made here, so the source has no licence of its own beyond CC0.
"""
import json
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
DESKTOP = (1280, 800)
PHONE = (540, 1170)


def _desktop(path: Path) -> None:
    image = Image.new("RGB", DESKTOP, (236, 239, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 1280, 40], fill=(52, 61, 70))
    for i, label in enumerate(["File", "Edit", "View", "Help"]):
        draw.text((16 + i * 70, 12), label, fill=(255, 255, 255))
    draw.rectangle([40, 80, 1240, 720], fill=(255, 255, 255), outline=(180, 180, 180))
    draw.text((60, 100), "Quarterly report (draft)", fill=(20, 20, 20))
    draw.rectangle([1100, 740, 1240, 780], fill=(46, 125, 214))
    draw.text((1140, 752), "Save", fill=(255, 255, 255))
    image.save(path, optimize=True)


def _phone(path: Path, title: str, rows: list[str]) -> None:
    image = Image.new("RGB", PHONE, (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 540, 90], fill=(33, 33, 33))
    draw.text((24, 40), title, fill=(255, 255, 255))
    for i, label in enumerate(rows):
        top = 120 + i * 110
        draw.rectangle([16, top, 524, top + 90], fill=(255, 255, 255), outline=(220, 220, 220))
        draw.text((40, top + 38), label, fill=(30, 30, 30))
        draw.ellipse([440, top + 30, 500, top + 60], fill=(76, 175, 80) if i % 2 == 0 else (189, 189, 189))
    image.save(path, optimize=True)


TRAJECTORIES = [
    ("desktop.png", "Save the report as 'Q3 final'.", [
        "pyautogui.click(100, 20)",
        "pyautogui.hotkey('ctrl', 'shift', 's')",
        "pyautogui.write('Q3 final, v2 (reviewed)')",
        "pyautogui.click(1170, 760)",
    ]),
    ("desktop.png", "Scroll to the end of the report and select the last line.", [
        "pyautogui.scroll(-10)",
        "pyautogui.doubleClick(x=300, y=690)",
        "pyautogui.moveTo(1500, 900)",
    ]),
    ("settings.png", "Turn on Wi-Fi and check the network name.", [
        '{"action_type": "open_app", "app_name": "Settings"}',
        '{"action_type": "click", "x": 470, "y": 165}',
        '{"action_type": "scroll", "direction": "down"}',
        '{"action_type": "navigate_back"}',
    ]),
    ("settings.png", "Open Bluetooth settings, then go home.", [
        'Thought: Bluetooth is the second row (under "Wi-Fi").\nAction: pyautogui.click(x=0.5, y=0.23)',
        "mobile.swipe(from_coord=[0.5, 0.8], to_coord=[0.5, 0.3])",
        "mobile.long_press(x=0.5, y=0.33)",
        "mobile.home()",
        'mobile.terminate(status="success")',
    ]),
    ("clock.png", "Set an alarm for 7:30.", [
        "actions:\nOPEN_APP [Clock]",
        "CLICK <point>[[870,240]]</point>",
        "TYPE [7:30, weekdays]",
        "PRESS_BACK",
        "COMPLETE",
    ]),
]


def main() -> None:
    (HERE / "gui").mkdir(exist_ok=True)
    _desktop(HERE / "gui" / "desktop.png")
    _phone(HERE / "gui" / "settings.png", "Settings", ["Wi-Fi", "Bluetooth", "Battery", "Display", "Sound"])
    _phone(HERE / "gui" / "clock.png", "Clock", ["Alarm 06:45", "Alarm 07:30", "Timer", "Stopwatch"])
    with (HERE / "gui_demo.jsonl").open("w") as out:
        for image, task, actions in TRAJECTORIES:
            messages = []
            for i, action in enumerate(actions):
                prompt = f"<image>Task: {task} What is the next action?" if i == 0 else "What is the next action?"
                messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": action}]
            out.write(json.dumps({"messages": messages, "images": [f"gui/{image}"]}) + "\n")


if __name__ == "__main__":
    main()
