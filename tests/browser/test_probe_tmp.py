import pytest
pytestmark = pytest.mark.browser

def test_probe(open_as):
    page, resp = open_as(None, "/search?q=headline")
    a = page.locator("header a[href='/auth/register']")
    print(a.evaluate("e => { const s = getComputedStyle(e); return [e.className, s.color, s.backgroundColor, s.display, s.visibility, e.getBoundingClientRect().toJSON()] }"))
    from tests.browser.conftest import axe_violations
    page.evaluate(__import__("tests.browser.conftest", fromlist=["x"])._axe_script())
    r = page.evaluate("axe.run(document.querySelector('header'), {runOnly: ['color-contrast']}).then(r => [r.violations.length, r.incomplete.map(i => [i.id, i.nodes.map(n => [n.target, n.any.map(a => a.message)])]), r.passes.map(p => p.nodes.length)])")
    print(r)
