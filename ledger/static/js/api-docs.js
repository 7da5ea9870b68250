// Started from a file rather than inline so the Content-Security-Policy can forbid inline scripts.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: document.body.dataset.specUrl, dom_id: "#swagger-ui", deepLinking: true });
});
