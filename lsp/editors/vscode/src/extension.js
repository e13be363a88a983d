// The Tally extension: starts `tally lsp` for `.tally` files and hands the editor to it.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;

/** The initialization options the settings ask for (empty settings are left to the server). */
function initializationOptions(config) {
  const options = {};
  const url = config.get('diagnosticsUrl');
  if (url) {
    options.diagnosticsUrl = url;
  }
  const dir = config.get('standardPacksDir');
  if (dir) {
    options.standardPacksDir = dir;
  }
  return options;
}

async function activate(context) {
  const config = vscode.workspace.getConfiguration('tally');
  const command = config.get('path') || 'tally';
  // `TransportKind.stdio` adds `--stdio`, which `tally lsp` accepts.
  const serverOptions = { command, args: ['lsp'], transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'tally' }],
    initializationOptions: initializationOptions(config),
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{tally,rhai}'),
    },
  };
  client = new LanguageClient('tally', 'Tally', serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('tally') && client) {
        await client.stop();
        await activate(context);
      }
    }),
  );
  await client.start();
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
