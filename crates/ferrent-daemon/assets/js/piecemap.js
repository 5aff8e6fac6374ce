// The piece map: the verified-pieces bitfield drawn on a canvas. With more pieces than
// cells, each cell stands for a run of pieces and is shaded by the share it has.

const GAP = 2;
const MAX_ROWS = 48;

/** Decodes a base64 BEP 3 bitfield into bytes (empty on bad input). */
export function decodeBitfield(base64) {
  try {
    const text = atob(base64 || '');
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i += 1) out[i] = text.charCodeAt(i);
    return out;
  } catch {
    return new Uint8Array(0);
  }
}

/** Whether piece `i` is set (first piece = high bit of the first byte). */
export function hasPiece(bits, i) {
  const byte = bits[i >> 3];
  return byte !== undefined && (byte & (0x80 >> (i & 7))) !== 0;
}

/** Counts set bits among the first `count` pieces. */
export function countPieces(bits, count) {
  let n = 0;
  for (let i = 0; i < count; i += 1) if (hasPiece(bits, i)) n += 1;
  return n;
}

/**
 * Lays out `count` pieces in `width` CSS pixels: cell size, columns, rows and pieces per
 * cell.
 */
export function layout(count, width) {
  for (const cell of [14, 11, 9, 7, 5]) {
    const columns = Math.max(1, Math.floor((width + GAP) / (cell + GAP)));
    const rows = Math.ceil(count / columns);
    if (rows <= MAX_ROWS) return { cell, columns, rows: Math.max(rows, 1), per: 1 };
  }
  const cell = 5;
  const columns = Math.max(1, Math.floor((width + GAP) / (cell + GAP)));
  const per = Math.ceil(count / (columns * MAX_ROWS));
  return { cell, columns, rows: Math.max(1, Math.ceil(count / per / columns)), per };
}

function cssColor(el, name) {
  return getComputedStyle(el).getPropertyValue(name).trim() || '#888';
}

/** Draws `bits` (of `count` pieces) on `canvas`, sized to its parent's width. */
export function drawPieceMap(canvas, bits, count) {
  const width = Math.max(120, canvas.parentElement ? canvas.parentElement.clientWidth : 480);
  const { cell, columns, rows, per } = layout(count, width);
  const cssHeight = rows * (cell + GAP) - GAP;
  const scale = window.devicePixelRatio || 1;
  const pixelWidth = Math.round(width * scale);
  const pixelHeight = Math.round(cssHeight * scale);
  if (canvas.width !== pixelWidth) canvas.width = pixelWidth;
  if (canvas.height !== pixelHeight) canvas.height = pixelHeight;
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.clearRect(0, 0, width, cssHeight);
  const have = cssColor(canvas, '--piece-have');
  const missing = cssColor(canvas, '--piece-missing');
  const cells = Math.ceil(count / per);
  const radius = cell >= 9 ? 2.5 : 1.5;
  for (let c = 0; c < cells; c += 1) {
    const first = c * per;
    const last = Math.min(count, first + per);
    let got = 0;
    for (let p = first; p < last; p += 1) if (hasPiece(bits, p)) got += 1;
    const x = (c % columns) * (cell + GAP);
    const y = Math.floor(c / columns) * (cell + GAP);
    ctx.globalAlpha = 1;
    ctx.fillStyle = missing;
    roundRect(ctx, x, y, cell, cell, radius);
    if (got > 0) {
      ctx.globalAlpha = got === last - first ? 1 : 0.25 + 0.6 * (got / (last - first));
      ctx.fillStyle = have;
      roundRect(ctx, x, y, cell, cell, radius);
    }
  }
  ctx.globalAlpha = 1;
  return { per, cells };
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(x, y, w, h, r);
  else ctx.rect(x, y, w, h);
  ctx.fill();
}
