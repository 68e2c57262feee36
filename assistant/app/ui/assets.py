"""The page's own CSS and JavaScript: citation links, the sources drawer on phones, the compact header."""

from __future__ import annotations

NARROW_PX = 700  # at or below this width the sources become a drawer and the header shrinks

PAGE_CSS = f"""
#app-header h2 {{ margin: 0 0 2px; }}
#chat .top-panel {{ display: none !important; }}  /* the chat's own trash icon: "新对话" is the one control */
#app-header p {{ margin: 0; }}
#chat a.cite {{ text-decoration: none; font-weight: 600; padding: 0 1px; border-radius: 3px;
               color: var(--link-text-color, #2563eb); cursor: pointer; }}
#chat a.cite:hover, #chat a.cite:focus {{ background: var(--color-accent-soft); text-decoration: underline; }}
#chat a.src-open {{ font-size: 0.9em; color: var(--link-text-color, #2563eb); cursor: pointer; }}
#chat-status {{ min-height: 1.6em; }}
#chat-status .chat-status {{ display: inline-flex; gap: 6px; align-items: center; font-size: 0.95em;
                             color: var(--body-text-color); padding: 2px 4px; }}
#chat-status .chat-status::before {{ content: ""; width: 8px; height: 8px; border-radius: 50%;
                                     background: var(--color-accent); animation: pulse 1s infinite alternate; }}
@keyframes pulse {{ from {{ opacity: .25; }} to {{ opacity: 1; }} }}
.modes-off {{ display: flex; flex-wrap: wrap; gap: 6px; margin: 0 0 8px; }}
.mode-off {{ display: flex; gap: 6px; align-items: center; opacity: .65; cursor: not-allowed; font-size: .95em;
             border: 1px dashed var(--border-color-primary); border-radius: var(--radius-md, 6px); padding: 6px 10px; }}
.mode-off-note {{ font-size: .9em; color: var(--body-text-color-subdued); }}
#sources-bar {{ display: flex; align-items: center; justify-content: space-between; }}
#sources-column {{ flex-wrap: nowrap !important; }}  /* with a height limit, wrapping would lay cards side by side */
#sources-column > * {{ flex-shrink: 0; }}
#sources-head {{ position: sticky; top: 0; z-index: 2; background: var(--background-fill-primary); }}
#sources-bar h3 {{ margin: 4px 0; }}
#sources-close {{ display: none; border: 1px solid var(--border-color-primary); border-radius: 6px;
                  background: var(--background-fill-secondary); padding: 2px 10px; cursor: pointer; }}
@media (min-width: {NARROW_PX + 1}px) {{
  /* The sources stay beside the chat and scroll by themselves: a citation never scrolls the chat away. */
  #sources-column {{ position: sticky; top: 8px; align-self: flex-start; max-height: calc(100vh - 16px);
                     overflow-y: auto; }}
}}
@media (max-width: {NARROW_PX}px) {{
  #app-header h2 {{ font-size: 0.95rem !important; line-height: 1.3; }}
  #sources-head {{ top: -8px; }}
  #app-header p {{ display: none; }}
  /* The title keeps its one line; the knowledge-base picker goes under it, across the page. */
  #app-top {{ flex-wrap: wrap !important; gap: 4px !important; }}
  #app-top > #app-header, #app-top > .form:has(#kb-picker) {{ flex: 1 1 100% !important; min-width: 100% !important; }}
  #kb-picker {{ padding: 6px 10px !important; flex-grow: 1 !important; width: 100% !important; }}
  #sources-column {{ position: fixed !important; left: 0; right: 0; bottom: 0; height: 78vh; z-index: 1000;
                     margin: 0 !important; padding: 8px 12px 16px; overflow-y: auto;
                     background: var(--background-fill-primary); box-shadow: 0 -6px 24px rgba(0,0,0,.25);
                     border-radius: 12px 12px 0 0; transform: translateY(105%); transition: transform .2s ease;
                     visibility: hidden; }}
  body.sources-open #sources-column {{ transform: none; visibility: visible; }}
  #sources-close {{ display: inline-block; }}
}}
"""

# Runs once when the sources panel is first shown (gr.HTML js_on_load: `element` is the panel,
# `trigger` sends an event to Python, `watch` runs after Python sends the panel a new value).
# A click on a citation [n] or on "查看来源" under an answer shows that answer's sources (asking
# Python for them when another answer's are shown), scrolls to the card and highlights it; on a
# phone it opens the sources drawer.
SOURCES_JS = r"""
let pending = null;
const shownTurn = () => { const t = element.querySelector('.src-turn'); return t ? Number(t.dataset.turn) : -1; };
const reveal = () => {
  if (!pending || shownTurn() !== pending.turn) return;
  const target = (pending.n && element.querySelector('#source-' + pending.n)) || element.querySelector('.src-turn');
  pending = null;
  if (!target) return;
  element.querySelectorAll('.src-flash').forEach((card) => card.classList.remove('src-flash'));
  target.classList.add('src-flash');
  // Scroll only the sources column (beside the chat, or the drawer on a phone), never the page.
  const column = document.getElementById('sources-column');
  if (column && column.scrollHeight > column.clientHeight) {
    const head = document.getElementById('sources-head');
    const top = target.getBoundingClientRect().top - column.getBoundingClientRect().top + column.scrollTop;
    column.scrollTo({ top: top - (head ? head.offsetHeight : 0) - 8, behavior: 'smooth' });
  } else {
    target.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }
};
document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('a.cite, a.src-open');
  if (!link) {
    if (event.target.closest && event.target.closest('#sources-close')) document.body.classList.remove('sources-open');
    return;
  }
  const where = (link.getAttribute('href') || '').match(/^#answer-(\d+)-(?:source-(\d+)|sources)$/);
  if (!where) return;
  event.preventDefault();
  event.stopPropagation();
  pending = { turn: Number(where[1]), n: where[2] ? Number(where[2]) : null };
  document.body.classList.add('sources-open');
  if (shownTurn() === pending.turn) reveal(); else trigger('click', { turn: pending.turn });
}, true);
watch('value', reveal);
"""

# Sending a question brings the conversation back into view (Settings may have scrolled it away).
SCROLL_TO_CHAT_JS = """
(...args) => {
  const chat = document.getElementById('chat');
  if (chat) {
    const box = chat.getBoundingClientRect();
    if (box.bottom < 120 || box.top > window.innerHeight - 120) chat.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }
  document.body.classList.remove('sources-open');
  return args;
}
"""

__all__ = ["NARROW_PX", "PAGE_CSS", "SCROLL_TO_CHAT_JS", "SOURCES_JS"]
