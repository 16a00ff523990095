// A store-only ZIP writer (no compression, ZIP64 for files over 4 GiB is not needed: the largest
// export is 498 MB), so a tab can hand over a multi-file checkpoint as one download.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3), the checksum ZIP stores for each entry. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const ZIP32_LIMIT = 0xffffffff;

/** One ZIP archive holding `files` uncompressed, in the given order, under a directory `folder`. */
export function zipStore(folder: string, files: Record<string, Uint8Array | string>): Uint8Array {
  const entries = Object.entries(files).map(([name, content]) => {
    const data = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    return { name: new TextEncoder().encode(`${folder}/${name}`), data, crc: crc32(data) };
  });
  const localSize = entries.reduce((n, e) => n + 30 + e.name.length + e.data.length, 0);
  const centralSize = entries.reduce((n, e) => n + 46 + e.name.length, 0);
  if (localSize + centralSize + 22 > ZIP32_LIMIT) throw new RangeError('the archive would exceed 4 GiB, which a ZIP without ZIP64 cannot hold');
  const out = new Uint8Array(localSize + centralSize + 22);
  const view = new DataView(out.buffer);
  let at = 0;
  const offsets: number[] = [];
  // Version 20, flag 0x0800 (names are UTF-8), method 0 (stored), DOS time and date left 0.
  const common = (p: number, e: (typeof entries)[number]): void => {
    view.setUint16(p, 20, true);
    view.setUint16(p + 2, 0x0800, true);
    view.setUint16(p + 4, 0, true);
    view.setUint32(p + 10, e.crc, true);
    view.setUint32(p + 14, e.data.length, true);
    view.setUint32(p + 18, e.data.length, true);
    view.setUint16(p + 22, e.name.length, true);
  };
  for (const e of entries) {
    offsets.push(at);
    view.setUint32(at, 0x04034b50, true);
    common(at + 4, e);
    out.set(e.name, at + 30);
    out.set(e.data, at + 30 + e.name.length);
    at += 30 + e.name.length + e.data.length;
  }
  const centralStart = at;
  entries.forEach((e, i) => {
    view.setUint32(at, 0x02014b50, true);
    view.setUint16(at + 4, 20, true); // made by: version 2.0
    common(at + 6, e);
    view.setUint32(at + 42, offsets[i], true);
    out.set(e.name, at + 46);
    at += 46 + e.name.length;
  });
  view.setUint32(at, 0x06054b50, true);
  view.setUint16(at + 8, entries.length, true);
  view.setUint16(at + 10, entries.length, true);
  view.setUint32(at + 12, centralSize, true);
  view.setUint32(at + 16, centralStart, true);
  return out;
}
