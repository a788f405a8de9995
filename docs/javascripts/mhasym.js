// "copy LaTeX" buttons: copy the catalog's TeX of a formula. Works offline.
function mhasymCopy(event) {
  const button = event.target.closest(".mhasym-copy");
  if (!button) return;
  const tex = button.getAttribute("data-tex");
  const done = () => {
    const label = button.textContent;
    button.textContent = button.getAttribute("data-copied") || "copied";
    setTimeout(() => { button.textContent = label; }, 1200);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(tex).then(done, () => fallback(tex, done));
  } else {
    fallback(tex, done);
  }
}
function fallback(tex, done) {
  const area = document.createElement("textarea");
  area.value = tex;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try { document.execCommand("copy"); done(); } finally { document.body.removeChild(area); }
}
document.addEventListener("click", mhasymCopy);
