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

// Formula blocks below the first screen are laid out when they come into view (content-visibility in
// mhasym.css), so a page shows sooner. Their height is only an estimate until then, so a link to a
// section would land in the wrong place: before jumping to a #section, every block is laid out.
function mhasymJump() {
  if (!location.hash) return;
  document.documentElement.classList.add("mhasym-laid-out");
  const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target) requestAnimationFrame(() => target.scrollIntoView());
}
window.addEventListener("hashchange", mhasymJump);
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", mhasymJump);
} else {
  mhasymJump();
}
