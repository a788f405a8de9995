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
  mhasymDrawAll();
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

// The math of later sections waits in <noscript class="mhasym-held"> (the mhasym plugin puts it there; with
// JavaScript on, the browser keeps it as text, so it costs nothing until needed; the words are already on the
// page as aria-label). A section's math is put in place at once when the section is on the first screen,
// otherwise when it comes within 1500 px of the screen, and all of it before printing or a jump to a #section.
const MHASYM_HELD = "noscript.mhasym-held";
function mhasymDraw(section) {
  for (const holder of section.querySelectorAll(MHASYM_HELD)) {
    if (section !== document && holder.closest(".mhasym-section") !== section) continue;
    holder.insertAdjacentHTML("afterend", holder.textContent);
    const math = holder.closest(".mhasym-deferred");
    holder.remove();
    if (math) math.classList.remove("mhasym-deferred");
  }
}
function mhasymDrawAll() { mhasymDraw(document); }
function mhasymWatch() {
  const waiting = [...new Set([...document.querySelectorAll(MHASYM_HELD)].map(h => h.closest(".mhasym-section")))]
    .filter(Boolean);
  if (!waiting.length) return;
  const watcher = new IntersectionObserver(entries => {
    for (const e of entries) if (e.isIntersecting) { mhasymDraw(e.target); watcher.unobserve(e.target); }
  }, {rootMargin: "1500px 0px"});
  // positions first (one layout), then the drawing: the first screen's sections at once, the others when near
  const onFirstScreen = waiting.map(section => section.getBoundingClientRect().top < window.innerHeight);
  waiting.forEach((section, k) => onFirstScreen[k] ? mhasymDraw(section) : watcher.observe(section));
}
window.addEventListener("beforeprint", mhasymDrawAll);
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", mhasymWatch);
} else {
  mhasymWatch();
}
