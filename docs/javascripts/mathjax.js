// MathJax for pymdownx.arithmatex (generic mode) and the notebooks' $...$ formulas.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true
  },
};
document$.subscribe(() => { MathJax.typesetPromise && MathJax.typesetPromise(); });
