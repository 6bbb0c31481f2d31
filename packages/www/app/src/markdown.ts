// Markdown from steps (annotations) is untrusted text: a worker's command may have written
// it. It is turned into HTML by `marked` with raw HTML shown as text, never passed through,
// and the result is sanitised by DOMPurify before it reaches the page, so neither a
// <script>, an event handler attribute nor a `javascript:` link survives.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    // Raw HTML in the Markdown is shown as the text it is.
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

const purify = DOMPurify(window);
// Links leave the app without handing it over (no opener, no referrer).
purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('rel', 'noopener noreferrer nofollow');
    node.setAttribute('target', '_blank');
  }
});

export function markdownToHtml(markdown: string): string {
  const html = marked.parse(markdown) as string;
  return purify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'iframe', 'object', 'embed'],
    // Only web and mail links; relative ones are resolved against the page (harmless).
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
