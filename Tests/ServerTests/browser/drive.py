#!/usr/bin/env python3
"""Drives the Unwind dashboard in headless Chromium through the DevTools protocol (stdlib only).

Chromium talks CDP over two pipes with --remote-debugging-pipe (it reads commands on fd 3, writes on fd 4,
each message JSON followed by a NUL byte), so no websocket client is needed.

    drive.py CHROMIUM BASE_URL WORKFLOW_ID TOKEN REASON ACTOR [SCREENSHOT.png]

Types the token into the token form, opens the workflow page, checks a hostile input is shown as text,
fills the resume form like an operator (focus, type, click) and waits for the page to confirm. Prints one
JSON object with what it saw; exits non-zero with a message on stderr when a step does not happen in time.
"""
import base64
import fcntl
import json
import os
import shutil
import signal
import sys
import tempfile
import time


class Browser:
    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="unwind-chromium-")
        self.log = os.path.join(self.profile, "stderr.log")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # Move the child's ends out of the way of 3 and 4 first, so the dup2 below always really duplicates
        # (dup2 onto the same number would keep close-on-exec set).
        high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 20)
        high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 20)
        os.close(to_child_r)
        os.close(from_child_w)
        arguments = [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
                     "--disable-extensions", "--disable-dev-shm-usage", "--remote-debugging-pipe",
                     "--window-size=1280,900", "--user-data-dir=" + self.profile, "about:blank"]
        self.pid = os.posix_spawn(chromium, arguments, os.environ, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, self.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            (os.POSIX_SPAWN_DUP2, high_r, 3),
            (os.POSIX_SPAWN_DUP2, high_w, 4),
        ])
        os.close(high_r)
        os.close(high_w)
        self.buffer = b""
        self.next_id = 0
        self.session = None

    def stderr_tail(self):
        try:
            with open(self.log, errors="replace") as handle:
                return handle.read()[-2000:]
        except OSError:
            return ""

    def send(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_child, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError("%s failed: %s" % (method, reply["error"]))
                return reply.get("result", {})

    def read(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe: " + self.stderr_tail())
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.navigate(url)

    def navigate(self, url):
        self.send("Page.navigate", {"url": url})
        # Interact only once the stylesheet and script are in: clicks land where the operator would see the field.
        self.wait_for("location.href === %s && document.readyState === 'complete'" % json.dumps(url), "page load of " + url)

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError("script failed: %s" % result["exceptionDetails"].get("text"))
        return result["result"].get("value")

    def wait_for(self, expression, what, timeout=20):
        deadline = time.time() + timeout
        guarded = "(() => { try { return (%s); } catch (e) { return null; } })()" % expression
        while time.time() < deadline:
            try:
                value = self.evaluate(guarded)
            except RuntimeError:
                value = None  # e.g. the page is navigating and its context is gone; ask again
            if value:
                return value
            time.sleep(0.1)
        body = self.evaluate("document.body ? document.body.innerText.slice(0, 1500) : ''")
        raise RuntimeError("timed out waiting for %s; page shows:\n%s" % (what, body))

    def click(self, selector):
        box = self.wait_for(
            "(() => { const e = document.querySelector(%s); if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()" % json.dumps(selector),
            selector)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1})

    def type_into(self, selector, text):
        # Click where the field is now; if a late layout change (stylesheet, refresh) moved it, click again.
        focused = "document.activeElement === document.querySelector(%s)" % json.dumps(selector)
        for _ in range(5):
            self.click(selector)
            try:
                self.wait_for(focused, "focus on " + selector, timeout=2)
                break
            except RuntimeError:
                continue
        else:
            self.wait_for(focused, "focus on " + selector, timeout=1)
        self.send("Input.insertText", {"text": text})

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})["data"]
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except Exception:
            pass
        deadline = time.time() + 10
        while time.time() < deadline:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        for fd in (self.to_child, self.from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    chromium, base, workflow, token, reason, actor = sys.argv[1:7]
    screenshot = sys.argv[7] if len(sys.argv) > 7 else None
    browser = Browser(chromium)
    seen = {}
    try:
        # The operator pastes the token into the bar; the page keeps it in sessionStorage for this tab.
        browser.open(base + "/")
        browser.wait_for("document.getElementById('token-input') !== null", "the token form")
        browser.type_into("#token-input", token)
        browser.click("#token-save")
        browser.wait_for("document.body.dataset.loaded === 'true' && document.querySelector('#workflow-table') !== null", "the workflow list")
        seen["list_rows"] = browser.evaluate("document.querySelectorAll('#workflow-table tr.workflow-row').length")
        seen["list_has_workflow"] = browser.evaluate(
            "document.querySelector('tr.workflow-row[data-id=\"%s\"]') !== null" % workflow.lower())

        browser.navigate(base + "/workflows/" + workflow)
        browser.wait_for("document.body.dataset.loaded === 'true' && document.querySelector('#resume-form') !== null", "the resume form")
        seen["state_before"] = browser.evaluate("document.body.dataset.state")
        seen["title"] = browser.evaluate("document.getElementById('workflow-title').textContent")
        seen["input_text"] = browser.evaluate("document.getElementById('workflow-input').textContent")
        seen["images_in_page"] = browser.evaluate("document.querySelectorAll('#main img').length")
        seen["xss_ran"] = browser.evaluate("window.__unwindXSS === true")
        seen["failed_steps"] = browser.evaluate(
            "Array.from(document.querySelectorAll('#steps li[data-state=failed]')).map(e => e.dataset.step)")
        seen["step_error"] = browser.evaluate(
            "(document.querySelector('#steps li[data-state=failed] .step-error') || {}).textContent || ''")

        browser.type_into("#resume-reason", reason)
        browser.type_into("#resume-actor", actor)
        browser.click("#resume-submit")
        seen["notice"] = browser.wait_for(
            "(document.getElementById('action-notice') || {}).textContent || ''", "the page to confirm the resume")
        seen["state_after"] = browser.wait_for(
            "document.body.dataset.state === 'succeeded' ? 'succeeded' : ''", "the workflow page to show it succeeded", timeout=30)
        seen["history_has_resume"] = browser.evaluate("document.querySelector('#events tr[data-kind=resume_requested]') !== null")
        if screenshot:
            browser.screenshot(screenshot)
    except Exception as error:  # one readable line for the Swift test's failure message
        print("browser check failed: %s" % error, file=sys.stderr)
        print(json.dumps(seen))
        return 1
    finally:
        browser.close()
    print(json.dumps(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
