#!/usr/bin/env node
// Sends one MongoDB wire-protocol command, { ping: 1, $db: "admin" } as an OP_MSG (opcode 2013), to HOST:PORT
// and exits 0 when the reply has ok: 1. Used by infra.sh to tell "FerretDB accepts TCP" from "FerretDB answers
// commands" before `npm ci` has installed the MongoDB driver, so it depends on nothing but Node itself.
// Usage: node mongo-ping.cjs [host] [port] [timeoutMs]
'use strict';
const net = require('node:net');

const host = process.argv[2] || '127.0.0.1';
const port = Number(process.argv[3] || 27017);
const timeoutMs = Number(process.argv[4] || 2000);

function cstring(s) {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

function bsonDoc(elements) {
  const body = Buffer.concat([...elements, Buffer.from([0])]);
  const len = Buffer.alloc(4);
  len.writeInt32LE(body.length + 4, 0);
  return Buffer.concat([len, body]);
}

function int32Elem(name, v) {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return Buffer.concat([Buffer.from([0x10]), cstring(name), b]);
}

function stringElem(name, v) {
  const s = cstring(v);
  const len = Buffer.alloc(4);
  len.writeInt32LE(s.length, 0);
  return Buffer.concat([Buffer.from([0x02]), cstring(name), len, s]);
}

/** Reads the top-level scalar fields of a BSON document that a ping reply can contain. */
function readTopLevel(doc) {
  const out = {};
  let i = 4;
  const end = doc.readInt32LE(0) - 1;
  while (i < end) {
    const type = doc[i++];
    const nameEnd = doc.indexOf(0, i);
    const name = doc.toString('utf8', i, nameEnd);
    i = nameEnd + 1;
    switch (type) {
      case 0x01:
        out[name] = doc.readDoubleLE(i);
        i += 8;
        break;
      case 0x10:
        out[name] = doc.readInt32LE(i);
        i += 4;
        break;
      case 0x12:
        out[name] = Number(doc.readBigInt64LE(i));
        i += 8;
        break;
      case 0x08:
        out[name] = doc[i] === 1;
        i += 1;
        break;
      case 0x02: {
        const n = doc.readInt32LE(i);
        out[name] = doc.toString('utf8', i + 4, i + 4 + n - 1);
        i += 4 + n;
        break;
      }
      case 0x03:
      case 0x04:
        i += doc.readInt32LE(i);
        break; // embedded document / array: skip
      case 0x09:
      case 0x11:
        i += 8;
        break; // UTC datetime / timestamp
      case 0x07:
        i += 12;
        break; // ObjectId
      case 0x0a:
        break; // null
      default:
        return out; // a type a ping reply does not carry: stop reading
    }
  }
  return out;
}

const doc = bsonDoc([int32Elem('ping', 1), stringElem('$db', 'admin')]);
const header = Buffer.alloc(16);
const flagsAndKind = Buffer.from([0, 0, 0, 0, 0]);
header.writeInt32LE(16 + flagsAndKind.length + doc.length, 0);
header.writeInt32LE(1, 4); // requestID
header.writeInt32LE(0, 8); // responseTo
header.writeInt32LE(2013, 12); // OP_MSG

const sock = net.connect({ host, port });
const timer = setTimeout(() => fail(`no reply within ${timeoutMs} ms`), timeoutMs);
let buf = Buffer.alloc(0);

function fail(msg) {
  process.stderr.write(`mongo-ping ${host}:${port}: ${msg}\n`);
  sock.destroy();
  process.exit(1);
}

sock.on('connect', () => sock.write(Buffer.concat([header, flagsAndKind, doc])));
sock.on('error', (err) => fail(err.message));
sock.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  if (buf.length < 4 || buf.length < buf.readInt32LE(0)) return;
  clearTimeout(timer);
  if (buf.readInt32LE(12) !== 2013) fail(`unexpected reply opcode ${buf.readInt32LE(12)}`);
  // header (16) + flagBits (4) + section kind (1), then the body document
  const reply = readTopLevel(buf.subarray(21));
  sock.end();
  if (reply.ok === 1 || reply.ok === true) process.exit(0);
  fail(`ping answered ${JSON.stringify(reply)}`);
});
