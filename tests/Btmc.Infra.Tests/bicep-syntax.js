#!/usr/bin/env node
// Prints the tree-sitter-bicep syntax tree of each Bicep file named on the command line, as JSON on stdout:
//   [{"file": "...", "root": node}], node = {"type", "field"?, "text", "row", "column", "children": [node]}
// Only named nodes are kept, each with its source text (the root's is left out: it is the file). ERROR and MISSING
// nodes are kept as such, so the reader can report them. Used by tests/Btmc.Infra.Tests (BicepSyntax.cs);
// the parser packages come from the repository's package.json (npm ci, run by ./test.sh).
'use strict';
const fs = require('fs');
let Parser, Bicep;
try {
  Parser = require('tree-sitter');
  Bicep = require('tree-sitter-bicep');
} catch (error) {
  process.stderr.write(`bicep-syntax: the parser is not installed (${error.message}); run npm ci (./test.sh does).\n`);
  process.exit(3);
}

const parser = new Parser();
parser.setLanguage(Bicep);

function convert(node, field, isRoot) {
  const out = { type: node.isMissing ? 'MISSING' : node.type, row: node.startPosition.row + 1, column: node.startPosition.column + 1 };
  if (field) out.field = field;
  const children = [];
  const cursor = node.walk();
  if (cursor.gotoFirstChild()) {
    do {
      const child = cursor.currentNode;
      if (child.isNamed || child.isMissing || child.type === 'ERROR') {
        children.push(convert(child, cursor.currentFieldName || undefined));
      }
    } while (cursor.gotoNextSibling());
  }
  if (!isRoot) out.text = node.text;
  out.children = children;
  return out;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: bicep-syntax.js <file.bicep>...\n');
  process.exit(2);
}

const result = files.map(file => {
  const source = fs.readFileSync(file, 'utf8');
  // The default buffer (32 KiB) is too small for larger files: give the callback form the whole text in pieces.
  const tree = parser.parse((index) => source.slice(index, index + 16384));
  return { file, root: convert(tree.rootNode, undefined, true) };
});
process.stdout.write(JSON.stringify(result));
