// The open message's tags, editable: a tag searches for its messages when clicked and has a
// × that removes it; "+ Tag" (or the t key) opens a field that suggests the mailbox's other
// tags. A change sends the message's whole new list (PUT /api/v1/tags {IDs, Tags}, as Mailpit's
// UI does) through onChange; if that fails, the tags shown go back to what they were.
import { api } from "./api.js";
import { h, tagHue } from "./dom.js";

/** The search for a tag's messages. */
export function tagQuery(tag) {
  return /^[\w.@+-]+$/.test(tag) ? `tag:${tag}` : `tag:"${tag.replace(/"/g, "")}"`;
}

/** A tag cleaned as the server cleans it (Mailpit's rules): other characters become spaces. */
export function cleanTag(text) {
  return text.replace(/[^a-zA-Z0-9\- _.]/g, " ").replace(/ {2,}/g, " ").trim().slice(0, 100).trim();
}

const same = (a, b) => a.toLowerCase() === b.toLowerCase();

export class TagEditor {
  /** @param {{tags: string[], onChange: (tags: string[]) => Promise<void>, onSearch: (query: string) => void}} options */
  constructor({ tags, onChange, onSearch }) {
    this.tags = [...tags];
    this.onChange = onChange;
    this.onSearch = onSearch;
    this.editing = false;
    this.el = h("div", { class: "head-tags", role: "group", "aria-label": "Tags" });
    this.render();
  }

  /** The tags as the server now has them (an update event). */
  set(tags) {
    this.tags = [...tags];
    if (!this.editing) this.render();
  }

  render() {
    const pills = this.tags.map((tag) => {
      const pill = h("span", { class: "tag tag-pill" },
        h("button", { type: "button", class: "tag-name", title: `Search ${tagQuery(tag)}`, text: tag, onclick: () => this.onSearch(tagQuery(tag)) }),
        h("button", {
          type: "button", class: "tag-remove", "aria-label": `Remove tag ${tag}`, title: `Remove tag ${tag}`, "data-needs-server": true,
          onclick: () => {
            this.change(this.tags.filter((t) => t !== tag));
            this.el.querySelector(".tag-add")?.focus();
          },
        }, "×"));
      pill.style.setProperty("--hue", tagHue(tag));
      return pill;
    });
    const add = h("button", { type: "button", class: "tag-add", title: "Add a tag (t)", "data-needs-server": true, onclick: () => this.edit() }, "+ Tag");
    this.el.replaceChildren(...pills, add);
  }

  /** Open the field for a new tag. */
  edit() {
    if (this.editing) return;
    this.editing = true;
    const suggestions = h("datalist", { id: "tag-suggestions" });
    api.tags().then((all) => {
      for (const tag of all || []) if (!this.tags.some((t) => same(t, tag))) suggestions.append(h("option", { value: tag }));
    }, () => {});
    const input = h("input", {
      type: "text", class: "tag-input", list: "tag-suggestions", "aria-label": "New tag", placeholder: "New tag",
      maxlength: "100", autocomplete: "off", spellcheck: "false",
    });
    const finish = (save) => {
      if (!this.editing) return;
      this.editing = false;
      const tag = cleanTag(input.value);
      this.render();
      if (save && tag && !this.tags.some((t) => same(t, tag))) this.change([...this.tags, tag]);
      this.el.querySelector(".tag-add")?.focus();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        finish(true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        finish(false);
      }
    });
    input.addEventListener("blur", () => finish(true));
    this.el.querySelector(".tag-add").replaceWith(input, suggestions);
    input.focus();
  }

  async change(tags) {
    const before = this.tags;
    this.tags = tags;
    this.render();
    try {
      await this.onChange(tags);
    } catch {
      this.tags = before;
      if (!this.editing) this.render();
    }
  }
}
