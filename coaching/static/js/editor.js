// The content editor's enhancements (templates/manage/content/edit.html). Without JavaScript the page is a plain
// form that works the same; with it: line numbers with the check's messages beside their lines, the check and the
// preview updated as one types (a debounced POST to the server, which checks the text without saving it), jumping
// to a message's line, a warning before leaving unsaved changes, and pictures inserted at the cursor.
(function () {
  "use strict";
  var form = document.querySelector("form[data-editor]");
  if (!form) { return; }
  var textarea = document.getElementById("editor-text");
  var gutter = form.querySelector(".editor-gutter");
  var status = document.getElementById("editor-status");
  var list = document.getElementById("editor-problems");
  var preview = document.getElementById("editor-preview");
  var token = form.querySelector("input[name=csrf_token]").value;
  var labels = {error: list.getAttribute("data-error-label"), warning: list.getAttribute("data-warning-label")};
  var initial = textarea.value;
  var submitting = false;
  var timer = null;
  var sequence = 0;
  var tops = [];
  var frame = 0;
  var problems = Array.prototype.map.call(list.querySelectorAll("li[data-line]"), function (item) {
    return {line: Number(item.getAttribute("data-line")),
            severity: item.classList.contains("problem-error") ? "error" : "warning",
            message: item.getAttribute("data-message") || ""};
  });

  // A hidden copy of the text, laid out like the textarea, tells where each line starts once long lines wrap.
  var mirror = document.createElement("div");
  mirror.className = "editor-mirror";
  mirror.setAttribute("aria-hidden", "true");
  document.body.appendChild(mirror);
  var numbers = document.createElement("div");
  numbers.className = "editor-gutter-inner";
  gutter.appendChild(numbers);
  form.classList.add("editor-enhanced");

  function copyLayout() {
    var style = window.getComputedStyle(textarea);
    ["fontFamily", "fontSize", "fontWeight", "lineHeight", "letterSpacing", "wordSpacing", "tabSize",
     "paddingLeft", "paddingRight", "paddingTop", "paddingBottom"].forEach(function (name) {
      mirror.style[name] = style[name];
    });
    mirror.style.width = textarea.clientWidth + "px";
  }

  function worst(a, b) { return a === "error" || b === "error" ? "error" : (a || b); }

  function layout() {
    frame = 0;
    copyLayout();
    var lines = textarea.value.split("\n");
    var copy = document.createDocumentFragment();
    lines.forEach(function (line) {
      var row = document.createElement("div");
      row.textContent = line || "\u200b";
      copy.appendChild(row);
    });
    mirror.textContent = "";
    mirror.appendChild(copy);
    tops = Array.prototype.map.call(mirror.children, function (row) { return row.offsetTop; });
    var marks = {};
    var notes = {};
    problems.forEach(function (p) {
      marks[p.line] = worst(marks[p.line], p.severity);
      notes[p.line] = (notes[p.line] ? notes[p.line] + "\n" : "") + p.message;
    });
    var drawn = document.createDocumentFragment();
    tops.forEach(function (top, i) {
      var number = document.createElement("span");
      number.className = "line-no" + (marks[i + 1] ? " line-" + marks[i + 1] : "");
      number.textContent = String(i + 1);
      number.style.top = top + "px";
      if (notes[i + 1]) { number.title = notes[i + 1]; }
      drawn.appendChild(number);
    });
    numbers.textContent = "";
    numbers.appendChild(drawn);
    numbers.style.height = mirror.scrollHeight + "px";
    follow();
  }

  function relayout() { if (!frame) { frame = window.requestAnimationFrame(layout); } }
  function follow() { numbers.style.transform = "translateY(" + (-textarea.scrollTop) + "px)"; }

  function goToLine(line) {
    var lines = textarea.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i += 1) { start += lines[i].length + 1; }
    var end = start + (lines[line - 1] || "").length;
    textarea.focus();
    textarea.setSelectionRange(start, end);
    textarea.scrollTop = Math.max(0, (tops[line - 1] || 0) - textarea.clientHeight / 3);
    follow();
  }

  function showProblems() {
    var items = document.createDocumentFragment();
    problems.forEach(function (p) {
      var item = document.createElement("li");
      item.className = "problem problem-" + p.severity;
      item.setAttribute("data-line", String(p.line));
      item.setAttribute("data-message", p.message);
      var badge = document.createElement("span");
      badge.className = "badge badge-" + p.severity;
      badge.textContent = labels[p.severity] || p.severity;
      var link = document.createElement("a");
      link.href = "#editor-text";
      link.className = "problem-line";
      link.setAttribute("data-line", String(p.line));
      link.textContent = form.getAttribute("data-line-label") + " " + p.line;
      item.appendChild(badge);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(link);
      item.appendChild(document.createTextNode(": " + p.message));
      items.appendChild(item);
    });
    list.textContent = "";
    list.appendChild(items);
  }

  function answer(response) {
    return response.json().then(function (body) { return {ok: response.ok, body: body}; }, function () {
      return {ok: false, body: {error: response.status + " " + response.statusText}};
    });
  }

  function runCheck() {
    var mine = sequence += 1;
    var data = new FormData();
    data.append("csrf_token", token);
    data.append("text", textarea.value);
    status.textContent = form.getAttribute("data-checking");
    fetch(form.getAttribute("data-check-url"), {method: "POST", body: data, credentials: "same-origin",
                                                 headers: {"Accept": "application/json"}})
      .then(answer)
      .then(function (result) {
        if (mine !== sequence) { return; }
        if (!result.ok) {
          status.textContent = form.getAttribute("data-check-failed") + " " +
            (result.body.message || result.body.error || "");
          return;
        }
        problems = result.body.problems;
        preview.innerHTML = result.body.preview;  // rendered and sanitised by the server's Markdown pipeline
        showProblems();
        status.textContent = result.body.summary;
        relayout();
      })
      .catch(function (error) {
        if (mine === sequence) { status.textContent = form.getAttribute("data-check-failed") + " " + error.message; }
      });
  }

  function changed() {
    relayout();
    window.clearTimeout(timer);
    timer = window.setTimeout(runCheck, 600);
  }

  textarea.addEventListener("input", changed);
  textarea.addEventListener("scroll", follow);
  window.addEventListener("resize", relayout);
  list.addEventListener("click", function (event) {
    var link = event.target.closest("[data-line]");
    if (!link) { return; }
    event.preventDefault();
    goToLine(Number(link.getAttribute("data-line")));
  });
  form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("beforeunload", function (event) {
    if (!submitting && textarea.value !== initial) {
      event.preventDefault();
      event.returnValue = form.getAttribute("data-unsaved");
    }
  });
  layout();

  // Pictures: upload with the description, then put their Markdown where the cursor is.
  var imageForm = document.querySelector("form[data-image-insert]");
  if (!imageForm) { return; }
  var imageStatus = document.getElementById("image-status");
  imageForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var at = [textarea.selectionStart, textarea.selectionEnd];
    imageStatus.textContent = "";
    fetch(imageForm.action, {method: "POST", body: new FormData(imageForm), credentials: "same-origin",
                             headers: {"Accept": "application/json"}})
      .then(answer)
      .then(function (result) {
        if (!result.ok) {
          imageStatus.textContent = imageForm.getAttribute("data-upload-failed") + " " +
            (result.body.message || result.body.error || "");
          return;
        }
        var before = textarea.value.slice(0, at[0]);
        var lead = before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "";
        textarea.setRangeText(lead + result.body.markdown + "\n", at[0], at[1], "end");
        textarea.focus();
        imageForm.reset();
        imageStatus.textContent = imageForm.getAttribute("data-inserted");
        changed();
      })
      .catch(function (error) {
        imageStatus.textContent = imageForm.getAttribute("data-upload-failed") + " " + error.message;
      });
  });
})();
