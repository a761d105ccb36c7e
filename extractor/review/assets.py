"""Inline CSS and JS of the review page: no network assets, one file."""

CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:.6em 1em;background:#263238;color:#fff}
header a{color:#cfe}
section.article{display:grid;grid-template-columns:minmax(0,3fr) minmax(260px,2fr);gap:1em;padding:1em;border-bottom:2px solid #ccc}
.text{white-space:pre-wrap;background:#fff;padding:1em;border:1px solid #ddd;max-height:85vh;overflow:auto}
.side{max-height:85vh;overflow:auto}
.side h3{margin:.6em 0 .2em;font-size:1em}
ul.items{list-style:none;padding:0;margin:0}
li.item{padding:.35em .5em;margin:.25em 0;border-left:6px solid #999;background:#fff;cursor:pointer}
li.item.active{outline:2px solid #000}
li.item small{display:block;color:#555}
li.ungrounded,li.dropped{border-left-color:#b00020;background:#fff3f3;cursor:default}
mark{padding:0 1px;border-radius:2px}
mark.active{outline:2px solid #000;box-shadow:0 0 0 3px #ffeb3b}
.t-exercise{background:#c8e6c9}li.t-exercise{border-left-color:#2e7d32}
.t-aircraft{background:#bbdefb}li.t-aircraft{border-left-color:#1565c0}
.t-statement{background:#ffe0b2}li.t-statement{border-left-color:#ef6c00}
li.item.t-exercise,li.item.t-aircraft,li.item.t-statement{background:#fff}
.legend span{padding:0 .4em;margin-right:.5em;color:#222}
.missing{color:#b00020}
"""

JS = """
document.addEventListener('click', function (event) {
  var li = event.target.closest('li.item[data-item]');
  if (!li) return;
  var section = li.closest('section.article');
  section.querySelectorAll('.active').forEach(function (el) { el.classList.remove('active'); });
  li.classList.add('active');
  var id = li.getAttribute('data-item');
  var marks = section.querySelectorAll('mark[data-items~="' + id + '"]');
  marks.forEach(function (m) { m.classList.add('active'); });
  if (marks.length) marks[0].scrollIntoView({block: 'center'});
});
// "page.html#select=r0-a1" opens the page with that item selected (links, tests).
window.addEventListener('load', function () {
  var m = /^#select=(.+)$/.exec(window.location.hash);
  var li = m && document.querySelector('li.item[data-item="' + m[1] + '"]');
  if (li) li.click();
});
"""
