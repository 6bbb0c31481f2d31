// Keys that work on every page: `/` focuses the page's search or filter field (the log's
// search, the tests' name filter), Escape leaves a field. Links and buttons take Enter as
// browsers make them; the focus ring shows where the keyboard is (style.css).

const SEARCH = 'input[type="search"], input[data-search]';

function typing(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
  );
}

export function installKeys(): void {
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape' && typing(e.target)) {
      (e.target as HTMLElement).blur();
      return;
    }
    if (e.key !== '/' || typing(e.target)) return;
    const field = document.querySelector<HTMLInputElement>(SEARCH);
    if (!field) return;
    e.preventDefault();
    field.focus();
    field.select();
  });
}
