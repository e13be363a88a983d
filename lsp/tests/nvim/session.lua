-- A scripted editor session in headless Neovim (0.7 or later, as Debian packages it): start
-- `tally lsp` on a pack with a misspelt name, wait for the diagnostic, hover, go to a
-- definition in the pack and one in the standard packs, and rename. Each check prints a line;
-- the first that fails exits with code 1. Run by lsp/tests/stdio/nvim.rs with:
--   TALLY_BIN (the tally binary), TALLY_ROOT (the workspace folder), TALLY_PACK (the file to
--   open), TALLY_CACHE (where the standard packs are written).

local bin = os.getenv('TALLY_BIN')
local root = os.getenv('TALLY_ROOT')
local pack = os.getenv('TALLY_PACK')
local cache = os.getenv('TALLY_CACHE')
local timeout = 60000

local function say(text)
  io.stdout:write(text .. '\n')
end

local function check(condition, what)
  if not condition then
    say('FAIL: ' .. what)
    vim.cmd('cquit 1')
  end
  say('ok: ' .. what)
end

vim.cmd('edit ' .. vim.fn.fnameescape(pack))
local buf = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = 'tally',
  cmd = { bin, 'lsp' },
  root_dir = root,
  init_options = { standardPacksDir = cache },
})
check(client_id ~= nil, 'the server starts')
vim.lsp.buf_attach_client(buf, client_id)
local client = vim.lsp.get_client_by_id(client_id)

-- A diagnostic for the misspelt publisher.
local arrived = vim.wait(timeout, function()
  return #vim.diagnostic.get(buf) > 0
end, 50)
check(arrived, 'a diagnostic arrives')
local diagnostic = vim.diagnostic.get(buf)[1]
local code = diagnostic.code or (diagnostic.user_data and diagnostic.user_data.lsp.code)
check(code == 'T0101', 'it is T0101, unknown name (' .. tostring(code) .. ')')
check(diagnostic.lnum == 5 and diagnostic.col == 14, 'it is on `acmee`, line 6 column 15')

local function at(line, character)
  return {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line, character = character },
  }
end

-- Hover over the publisher's declaration.
local hover = client.request_sync('textDocument/hover', at(1, 12), timeout, buf)
local text = hover and hover.result and hover.result.contents.value or ''
check(text:find('publisher acme', 1, true) ~= nil, 'hover shows `publisher acme`')
check(text:find('Acme Corporation.', 1, true) ~= nil, 'hover shows the doc comment')

-- Go to the definition of the product that `covers` names.
local found = client.request_sync('textDocument/definition', at(8, 32), timeout, buf)
check(found and found.result, 'a definition is found')
vim.lsp.util.jump_to_location(found.result, client.offset_encoding)
local cursor = vim.api.nvim_win_get_cursor(0)
check(cursor[1] == 4 and cursor[2] == 8, 'the cursor is on `product acme.writer`')

-- Go to a definition in the standard packs: a read-only file.
found = client.request_sync('textDocument/definition', at(12, 16), timeout, buf)
check(found and found.result, 'a standard definition is found')
vim.lsp.util.jump_to_location(found.result, client.offset_encoding)
local name = vim.api.nvim_buf_get_name(0)
check(name:sub(-#'rules/oracle.tally') == 'rules/oracle.tally', 'the standard pack is open: ' .. name)
local line = vim.api.nvim_get_current_line()
check(line:find('metric oracle.processor', 1, true) ~= nil, 'on `metric oracle.processor`')
vim.cmd('buffer ' .. buf)

-- Rename the product where it is declared and where it is covered.
local renamed = client.request_sync('textDocument/rename', {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  position = { line = 3, character = 12 },
  newName = 'acme.editor',
}, timeout, buf)
check(renamed and renamed.result, 'the rename has edits')
vim.lsp.util.apply_workspace_edit(renamed.result, client.offset_encoding)
local lines = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
check(lines:find('product acme.editor {', 1, true) ~= nil, 'the declaration is renamed')
check(lines:find('covers acme.editor }', 1, true) ~= nil, 'the reference is renamed')
check(lines:find('rights acme.writer\n}', 1, true) ~= nil, 'the rights of the same name is not')

-- The server saw the edit: the diagnostic is still the publisher's, and nothing else.
local settled = vim.wait(timeout, function()
  local now = vim.diagnostic.get(buf)
  return #now == 1 and now[1].lnum == 5
end, 50)
check(settled, 'after the rename, one diagnostic remains')

client.stop()
vim.wait(5000, function()
  return client.is_stopped()
end, 50)
say('done')
vim.cmd('qall!')
