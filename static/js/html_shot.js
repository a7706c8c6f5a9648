// "Save as PNG" for a message's HTML: the sanitized document the reader's frame shows (no
// scripts, remote content only if the reader allowed it), drawn into a canvas through an SVG
// <foreignObject> and downloaded. Nothing is fetched but the message's own parts (inlined as
// data: URLs, since an SVG drawn as an image loads nothing); remote images and CSS
// backgrounds are left out. The picture is as wide as the preview and as tall as the content.
const MAX_HEIGHT = 16_000;

function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

async function inlineImages(doc, partPrefix) {
  await Promise.all([...doc.querySelectorAll("img")].map(async (img) => {
    const src = img.getAttribute("src");
    if (!src || src.startsWith("data:")) return;
    let url;
    try {
      url = new URL(src, location.href);
    } catch {
      img.removeAttribute("src");
      return;
    }
    if (!url.href.startsWith(partPrefix)) {
      // Only the message's own parts: anything else (remote, or another of the catcher's
      // URLs) is left out rather than fetched.
      img.removeAttribute("src");
      return;
    }
    try {
      const response = await fetch(url, { cache: "force-cache" });
      img.setAttribute("src", response.ok ? await dataUrl(await response.blob()) : "");
    } catch {
      img.removeAttribute("src");
    }
  }));
  for (const el of doc.querySelectorAll("img[srcset], source")) el.remove();
}

function draw(svg, width, height) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, width, height);
      ctx.drawImage(img, 0, 0);
      resolve(canvas);
    };
    img.onerror = () => reject(new Error("the browser couldn't draw this HTML"));
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  });
}

/** The last row of pixels that differs from the bottom row (the page's background). */
function contentHeight(canvas) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const data = ctx.getImageData(0, 0, width, height).data;
  const row = (y) => data.subarray(y * width * 4, (y + 1) * width * 4);
  const bottom = row(height - 1).slice();
  for (let y = height - 2; y >= 0; y--) {
    const r = row(y);
    for (let i = 0; i < r.length; i += 4) {
      if (Math.abs(r[i] - bottom[i]) > 2 || Math.abs(r[i + 1] - bottom[i + 1]) > 2 || Math.abs(r[i + 2] - bottom[i + 2]) > 2) {
        return y + 1;
      }
    }
  }
  return 1;
}

/** A PNG (Blob) of the sanitized `srcdoc`, `width` CSS pixels wide; `partPrefix` is the
 * absolute URL the message's parts start with. */
export async function htmlPng(srcdoc, width, partPrefix) {
  const doc = new DOMParser().parseFromString(srcdoc, "text/html");
  for (const el of doc.querySelectorAll("script, meta[http-equiv], base, link, iframe, object, embed")) el.remove();
  await inlineImages(doc, partPrefix);
  // The frame paints the body's background over the whole view; here it covers the body's
  // box, so keep its children's margins inside it.
  doc.body.style.setProperty("display", "flow-root");
  const xhtml = new XMLSerializer().serializeToString(doc.documentElement);
  const tall = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${MAX_HEIGHT}"><foreignObject x="0" y="0" width="100%" height="100%">${xhtml}</foreignObject></svg>`;
  const canvas = await draw(tall, width, MAX_HEIGHT);
  const height = Math.min(MAX_HEIGHT, contentHeight(canvas) + 16);
  const out = document.createElement("canvas");
  out.width = width;
  out.height = height;
  out.getContext("2d").drawImage(canvas, 0, 0);
  return new Promise((resolve, reject) => out.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no image"))), "image/png"));
}

/** Download a PNG of the HTML as `name`. */
export async function downloadHtmlPng(srcdoc, width, partPrefix, name) {
  const blob = await htmlPng(srcdoc, width, partPrefix);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
