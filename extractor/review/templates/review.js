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
