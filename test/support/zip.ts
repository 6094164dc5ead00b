import { inflateRawSync } from 'node:zlib';

interface ZipRecord {
  readonly name: string;
  readonly at: number;
}

/** The entries of a zip in stored order, read from the central directory (archiver writes sizes only there). */
function records(zip: Buffer): ZipRecord[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const found: ZipRecord[] = [];
  let at = zip.readUInt32LE(end + 16);
  for (let i = 0; i < zip.readUInt16LE(end + 10); i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    found.push({ name: zip.toString('utf8', at + 46, at + 46 + nameLength), at });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return found;
}

export function zipNames(zip: Buffer): string[] {
  return records(zip).map((record) => record.name);
}

/** One file of a zip, inflated. */
export function zipEntry(zip: Buffer, name: string): Buffer {
  const record = records(zip).find((r) => r.name === name);
  if (!record) throw new Error(`${name} is not in the zip`);
  const { at } = record;
  const local = zip.readUInt32LE(at + 42);
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const data = zip.subarray(start, start + zip.readUInt32LE(at + 20));
  return zip.readUInt16LE(at + 10) === 8 ? inflateRawSync(data) : data;
}
