#!/usr/bin/env python3
"""Drives headless Chromium through the daemon's authorisation pages against the emulator.

Per user: Authorise, sign in at iManage, "Authorised as NAME"; /me; Disconnect (confirmed on
its own page). Tracker: sign in as the demo NRTADMIN (Alice), authorize ACTIVE and ARCHIVE, see
her name on both, deauthorize ACTIVE (confirmed on its own page). Plus the pages a person sees
when they deny consent (at a clean address, without the code) and when they are not NRTADMIN.
Every step asserts on the page text; each page is saved as a PNG screenshot.
"""
import argparse
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException

parser = argparse.ArgumentParser()
parser.add_argument("--web", required=True, help="base URL of imanage-tokend's pages")
parser.add_argument("--screenshots", required=True, help="folder for the PNG screenshots")
args = parser.parse_args()

options = Options()
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,860"):
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)
failures = []


def text():
    """The page's visible text, once the page (after any redirects) has loaded."""
    for _ in range(100):
        try:
            if driver.execute_script("return document.readyState") == "complete":
                return driver.find_element(By.TAG_NAME, "body").text
        except WebDriverException:
            pass  # between two pages of a redirect chain
        time.sleep(0.1)
    return ""


def wait_for(phrase):
    """Waits (up to 10 s) until the page shows `phrase`; then the caller's expect() judges."""
    for _ in range(100):
        if phrase in text():
            return
        time.sleep(0.1)


def expect(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, "\n--- page:", driver.current_url, "\n", text(), file=sys.stderr)


def shot(name):
    path = os.path.join(args.screenshots, name + ".png")
    driver.save_screenshot(path)
    print("screenshot", path)


def sign_in_at_imanage(email, password, deny=False):
    wait_for("Sign in to iManage Work")
    expect("Sign in to iManage Work" in text(), "the iManage sign-in page is shown")
    field = driver.find_element(By.NAME, "email")
    field.clear()
    field.send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[value=%s]" % ("deny" if deny else "sign_in")).click()


def library_row(library):
    for row in driver.find_elements(By.CSS_SELECTOR, "tbody tr"):
        if row.find_element(By.TAG_NAME, "td").text == library:
            return row
    return None


try:
    org = args.web + "/organisations/demo"

    # Per user: My integrations → iManage settings → Authorise.
    driver.get(org + "/me")
    expect("You are not signed in here" in text(), "/me before authorising says not signed in")
    shot("01-me-not-signed-in")
    driver.find_element(By.LINK_TEXT, "Authorise with iManage").click()
    expect("code_challenge=" in driver.current_url, "the authorise redirect carries PKCE")
    shot("02-imanage-sign-in")
    sign_in_at_imanage("bob@example.com", "bob-password")
    wait_for("Authorised as Bob Barrister")
    expect("Authorised as Bob Barrister" in text(), "the callback ends on 'Authorised as Bob Barrister'")
    expect("Next refresh" in text(), "the schedule is shown")
    expect("code=" not in driver.current_url, "no code in the URL after the callback")
    shot("03-authorised-as")
    driver.find_element(By.LINK_TEXT, "Disconnect").click()
    wait_for("Disconnect your iManage authorisation?")
    expect("Disconnect your iManage authorisation?" in text(), "Disconnect asks to confirm first")
    shot("04a-disconnect-confirm")
    driver.find_element(By.XPATH, "//button[text()='Disconnect']").click()
    wait_for("Disconnected")
    expect("Disconnected" in text(), "Disconnect removes the authorisation")
    shot("04-disconnected")

    # Denied consent.
    driver.get(org + "/authorise")
    sign_in_at_imanage("carol@example.com", "", deny=True)
    wait_for("Access was not allowed")
    expect("Access was not allowed" in text(), "denying consent says so")
    expect("state=" not in driver.current_url and driver.current_url.endswith("/oauth/failed"),
           "the error page is at a clean address: " + driver.current_url)
    shot("05-error-consent-denied")

    # Tracker: the library authorization page.
    driver.get(org + "/tracker")
    expect("Sign in with iManage" in text(), "the Tracker page asks to sign in")
    shot("06-tracker-sign-in")
    driver.find_element(By.LINK_TEXT, "Sign in with iManage").click()
    sign_in_at_imanage("alice@example.com", "alice-password")
    wait_for("Signed in as Alice Admin")
    expect("Signed in as Alice Admin" in text(), "the Tracker page shows who signed in")
    expect(library_row("ACTIVE") is not None and library_row("ARCHIVE") is not None, "ACTIVE and ARCHIVE are listed")
    expect(library_row("LITIGATION") is None, "LITIGATION (not Alice's) is not offered")
    expect("Unauthorized" in library_row("ACTIVE").text, "ACTIVE starts Unauthorized")
    shot("07-tracker-unauthorized")

    for library in ("ACTIVE", "ARCHIVE"):
        row = library_row(library)
        email = row.find_element(By.NAME, "email")
        email.clear()
        email.send_keys("alice@example.com")
        row.find_element(By.XPATH, ".//button[text()='Authorize']").click()
        wait_for("Sign in to iManage Work")
        expect(driver.find_element(By.NAME, "email").get_attribute("value") == "alice@example.com",
               "the email is passed to iManage as login_hint")
        sign_in_at_imanage("alice@example.com", "alice-password")
        wait_for("Library %s is authorized" % library)
        expect("Library %s is authorized" % library in text(), "%s is authorized" % library)
        row = library_row(library)
        expect("Alice Admin" in row.text and "Authorized" in row.text, "%s shows Alice Admin, Authorized" % library)
    shot("08-tracker-two-authorized")

    library_row("ACTIVE").find_element(By.LINK_TEXT, "Deauthorize").click()
    wait_for("Deauthorize library ACTIVE?")
    expect("Deauthorize library ACTIVE?" in text(), "Deauthorize asks to confirm first")
    shot("09a-deauthorize-confirm")
    driver.find_element(By.XPATH, "//button[text()='Deauthorize']").click()
    wait_for("Library ACTIVE was deauthorized")
    expect("Library ACTIVE was deauthorized" in text(), "Deauthorize says so")
    expect("Unauthorized" in library_row("ACTIVE").text, "ACTIVE is Unauthorized again")
    expect("Alice Admin" in library_row("ARCHIVE").text, "ARCHIVE stays authorized by Alice")
    shot("09-tracker-one-deauthorized")

    # A person who is not NRTADMIN of the library asked for.
    row = library_row("ACTIVE")
    email = row.find_element(By.NAME, "email")
    email.clear()
    email.send_keys("bob@example.com")
    row.find_element(By.XPATH, ".//button[text()='Authorize']").click()
    sign_in_at_imanage("bob@example.com", "bob-password")
    wait_for("Not an NRTADMIN of ACTIVE")
    expect("Not an NRTADMIN of ACTIVE" in text(), "a non-NRTADMIN is refused")
    expect("code=" not in driver.current_url, "no code in the address of the error page")
    shot("10-error-not-nrtadmin")
finally:
    driver.quit()

if failures:
    print("browser test: %d failures" % len(failures), file=sys.stderr)
    sys.exit(1)
print("browser test: all steps passed")
