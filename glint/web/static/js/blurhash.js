// Placeholders while photos load: the average colour at once, then the blurhash (decoded here
// into a tiny canvas) behind the <img> until it has loaded. Styles are set through the CSSOM,
// which the page's Content-Security-Policy allows (style attributes in markup it would not).
import { onHydrate } from "./dom.js";

const DIGITS =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

function base83(text) {
  let value = 0;
  for (const char of text) {
    const digit = DIGITS.indexOf(char);
    if (digit < 0) throw new Error("not a blurhash");
    value = value * 83 + digit;
  }
  return value;
}

function toLinear(channel) {
  const v = channel / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

function toSrgb(linear) {
  const v = Math.min(1, Math.max(0, linear));
  const out = v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055;
  return Math.round(out * 255);
}

function signedPow(value, exponent) {
  return Math.sign(value) * Math.abs(value) ** exponent;
}

/** Decode a blurhash into RGBA pixels of the given size (Uint8ClampedArray). */
export function decodeBlurhash(hash, width, height, punch = 1) {
  const sizeFlag = base83(hash[0]);
  const cols = (sizeFlag % 9) + 1;
  const rows = Math.floor(sizeFlag / 9) + 1;
  if (hash.length !== 4 + 2 * cols * rows) throw new Error("blurhash has the wrong length");
  const maxAc = ((base83(hash[1]) + 1) / 166) * punch;
  const colours = [];
  const dc = base83(hash.slice(2, 6));
  colours.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
  for (let i = 1; i < cols * rows; i++) {
    const ac = base83(hash.slice(4 + i * 2, 6 + i * 2));
    colours.push([
      signedPow((Math.floor(ac / 361) - 9) / 9, 2) * maxAc,
      signedPow(((Math.floor(ac / 19) % 19) - 9) / 9, 2) * maxAc,
      signedPow(((ac % 19) - 9) / 9, 2) * maxAc,
    ]);
  }
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 0; j < rows; j++) {
        const cosY = Math.cos((Math.PI * y * j) / height);
        for (let i = 0; i < cols; i++) {
          const basis = Math.cos((Math.PI * x * i) / width) * cosY;
          const colour = colours[i + j * cols];
          r += colour[0] * basis;
          g += colour[1] * basis;
          b += colour[2] * basis;
        }
      }
      const at = 4 * (x + y * width);
      pixels[at] = toSrgb(r);
      pixels[at + 1] = toSrgb(g);
      pixels[at + 2] = toSrgb(b);
      pixels[at + 3] = 255;
    }
  }
  return pixels;
}

const cache = new Map();

/** A data: URL of the blurhash painted into a small canvas (cached per hash). */
export function blurhashDataUrl(hash) {
  if (cache.has(hash)) return cache.get(hash);
  const size = 32;
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  const context = canvas.getContext("2d");
  const image = context.createImageData(size, size);
  image.data.set(decodeBlurhash(hash, size, size));
  context.putImageData(image, 0, 0);
  const url = canvas.toDataURL();
  cache.set(hash, url);
  return url;
}

function placeholder(img) {
  if (img.dataset.placeholder) return;
  img.dataset.placeholder = "1";
  if (img.complete && img.naturalWidth > 0) return; // already there (cache)
  if (img.dataset.avg) img.style.backgroundColor = img.dataset.avg;
  try {
    img.style.backgroundImage = `url("${blurhashDataUrl(img.dataset.blurhash)}")`;
  } catch (err) {
    // a malformed hash: the average colour will do
  }
  const clear = () => {
    img.style.backgroundImage = "none";
    img.style.backgroundColor = "transparent";
    img.classList.add("is-loaded");
  };
  img.addEventListener("load", clear, { once: true });
}

onHydrate((root) => {
  for (const img of root.querySelectorAll("img[data-blurhash]")) placeholder(img);
});
