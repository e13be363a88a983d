//! A position index for `licenses.yaml`: it maps paths like `licenses[2].unit_price` to the
//! byte spans of the key and value, so that checks made after deserialising can underline the
//! value they complain about. It reads block style (indentation, `- ` list items,
//! `key: value` pairs, a value on the line after its key, quoted scalars and block scalars
//! that go on over lines) and flow style (`[a, b]`, `{ device: X }`, nested and over lines,
//! JSON included); what it cannot follow is found as its nearest ancestor instead.
//!
//! One pass over the text, linear in its length: the located nodes form a tree in which each
//! node is found from its parent by one step, so no path is ever copied, and open nodes are
//! closed from the end of a stack. The same pass measures how deeply the text nests (block
//! and flow style together) and where it goes deeper than [`MAX_NESTING`]: the YAML reader's
//! time grows with the square of the nesting of flow collections, so such a file is refused
//! before it is read. The pass also notes where a second YAML document starts and where the
//! first token is, for errors about the file as a whole.

use std::collections::HashMap;

use tally_compiler::diagnostics::Span;

/// How deeply a file may nest lists and mappings, block and flow style counted together.
/// `licenses.yaml` needs five levels (`licenses`, a record, `restrictions`, `groups`, a
/// group). Up to this limit the YAML reader spends at most a few times longer on a deeply
/// nested file than on an ordinary one of the same size.
pub(crate) const MAX_NESTING: usize = 16;

/// One step of a path: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Where one node is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The key; for a block list item the rest of the item's first line from its `-`; for a
    /// collection inside a flow list, the whole collection.
    pub key: Span,
    /// The scalar value (inside quotes, if quoted); `None` for a nested mapping or list.
    pub value: Option<Span>,
}

/// The node every path starts from: the document.
const ROOT: usize = 0;

/// The located nodes of a YAML text, as a tree.
#[derive(Debug)]
pub(crate) struct Locator {
    tree: Tree,
    /// The first place the text nests deeper than [`MAX_NESTING`].
    too_deep: Option<Span>,
    /// Where a second document starts: its `---`, or its first token after a `...`.
    second_document: Option<Span>,
    /// The first token of the first document.
    first_token: Option<Span>,
}

impl Locator {
    pub fn new(text: &str) -> Self {
        let mut builder = Builder::new(text);
        let mut offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
        for line in text.get(offset..).unwrap_or_default().split_inclusive('\n') {
            if builder.tree.too_deep.is_some() {
                break;
            }
            let content = line.strip_suffix('\n').unwrap_or(line);
            let content = content.strip_suffix('\r').unwrap_or(content);
            builder.line(offset, offset + content.len());
            offset += line.len();
        }
        if let Mode::Flow(flow) = &mut builder.mode {
            // The file ends inside a flow collection (an error the YAML reader reports): a
            // plain scalar that was being read still has a place.
            flow.finish_plain(&mut builder.tree, text);
        }
        Self {
            too_deep: builder.tree.too_deep,
            tree: builder.tree,
            second_document: builder.second_document,
            first_token: builder.first_token,
        }
    }

    #[cfg(test)]
    pub fn get(&self, path: &[Seg]) -> Option<&Entry> {
        let mut node = ROOT;
        for seg in path {
            node = self.tree.child(node, seg)?;
        }
        self.tree.nodes.get(node)?.entry.as_ref()
    }

    /// The span of the node at `path` (its value, else its key), or of its nearest ancestor
    /// that could be located; the flag says whether the node itself was found.
    pub fn nearest(&self, path: &[Seg]) -> (Option<Span>, bool) {
        let mut node = ROOT;
        let mut exact = true;
        for seg in path {
            match self.tree.child(node, seg) {
                Some(child) => node = child,
                None => {
                    exact = false;
                    break;
                }
            }
        }
        match self.tree.get(node) {
            Some(entry) => (Some(entry.value.unwrap_or(entry.key)), exact),
            None => (None, false),
        }
    }

    /// The span of the key of the node at `path`, if the node itself was located.
    pub fn key(&self, path: &[Seg]) -> Option<Span> {
        let mut node = ROOT;
        for seg in path {
            node = self.tree.child(node, seg)?;
        }
        self.tree.get(node).map(|entry| entry.key)
    }

    /// Where the text first nests deeper than [`MAX_NESTING`], if it does.
    pub fn too_deep(&self) -> Option<Span> {
        self.too_deep
    }

    /// Where a second YAML document starts, if there is one.
    pub fn second_document(&self) -> Option<Span> {
        self.second_document
    }

    /// The first token of the text (after comments, directives and a `---`), if any.
    pub fn first_token(&self) -> Option<Span> {
        self.first_token
    }
}

/// The located nodes; node 0 is the root.
#[derive(Debug)]
struct Tree {
    nodes: Vec<Node>,
    too_deep: Option<Span>,
}

/// A located node and its children, by key and by index.
#[derive(Debug, Default)]
struct Node {
    /// `None` for the root.
    entry: Option<Entry>,
    keys: HashMap<String, usize>,
    items: Vec<usize>,
}

impl Tree {
    fn new() -> Self {
        Self {
            nodes: vec![Node::default()],
            too_deep: None,
        }
    }

    /// The child `seg` of `node`.
    fn child(&self, node: usize, seg: &Seg) -> Option<usize> {
        let node = self.nodes.get(node)?;
        match seg {
            Seg::Key(name) => node.keys.get(name).copied(),
            Seg::Index(index) => node.items.get(*index).copied(),
        }
    }

    fn get(&self, node: usize) -> Option<Entry> {
        self.nodes.get(node)?.entry
    }

    /// Records the child `seg` of `parent` (a later one with the same step replaces it);
    /// `None` when the parent is not recorded.
    fn add(&mut self, parent: Option<usize>, seg: Seg, entry: Entry) -> Option<usize> {
        let next = self.nodes.len();
        let children = self.nodes.get_mut(parent?)?;
        let node = match seg {
            Seg::Key(name) => *children.keys.entry(name).or_insert(next),
            Seg::Index(index) => match children.items.get(index) {
                Some(&node) => node,
                // Items are numbered in order, so a new one comes last.
                None if index == children.items.len() => {
                    children.items.push(next);
                    next
                }
                None => return None,
            },
        };
        if node == next {
            self.nodes.push(Node {
                entry: Some(entry),
                ..Node::default()
            });
        } else if let Some(slot) = self.nodes.get_mut(node) {
            slot.entry = Some(entry);
        }
        Some(node)
    }

    fn entry(&mut self, node: Option<usize>) -> Option<&mut Entry> {
        self.nodes.get_mut(node?)?.entry.as_mut()
    }

    fn set_value(&mut self, node: Option<usize>, value: Span) {
        if let Some(entry) = self.entry(node) {
            entry.value = Some(value);
        }
    }

    /// Moves the end of a value that went on over lines.
    fn end_value(&mut self, node: Option<usize>, end: usize) {
        if let Some(value) = self.entry(node).and_then(|e| e.value.as_mut()) {
            value.end = end.max(value.start);
        }
    }

    /// Moves the end of a key span, for a flow collection once it is closed.
    fn end_key(&mut self, node: Option<usize>, end: usize) {
        if let Some(entry) = self.entry(node) {
            entry.key.end = end.max(entry.key.start);
        }
    }

    /// Whether `depth` is deeper than allowed; the first time, `at` is noted.
    fn too_deep(&mut self, depth: usize, at: Span) -> bool {
        if depth > MAX_NESTING && self.too_deep.is_none() {
            self.too_deep = Some(at);
        }
        self.too_deep.is_some()
    }
}

/// An open block node: its indentation, whether it is a list item, how many items it has,
/// and its node in the tree (`None` when it is not recorded).
#[derive(Debug)]
struct Frame {
    indent: usize,
    item: bool,
    items: usize,
    node: Option<usize>,
}

/// A block node whose value may be written on a later line, indented at least `indent`.
#[derive(Debug, Clone, Copy)]
struct Pending {
    node: Option<usize>,
    indent: usize,
}

/// What the lines being read belong to.
#[derive(Debug)]
enum Mode {
    Block,
    /// A flow collection that goes on over lines.
    Flow(Flow),
    /// A quoted scalar that goes on over lines, the value of `node`.
    Quoted {
        quote: u8,
        node: Option<usize>,
    },
    /// The lines of a block scalar (`|` or `>`), the value of `node`: those indented at least
    /// `content`, or, before its first line, at least `indent`.
    BlockScalar {
        indent: usize,
        content: Option<usize>,
        node: Option<usize>,
        /// Whether its first line has been seen (and shown as the value).
        shown: bool,
    },
}

struct Builder<'t> {
    text: &'t str,
    tree: Tree,
    stack: Vec<Frame>,
    /// List items at the top level.
    root_items: usize,
    mode: Mode,
    pending: Option<Pending>,
    /// Documents started so far, and whether one is open.
    documents: usize,
    open: bool,
    second_document: Option<Span>,
    first_token: Option<Span>,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            tree: Tree::new(),
            stack: Vec::new(),
            root_items: 0,
            mode: Mode::Block,
            pending: None,
            documents: 0,
            open: false,
            second_document: None,
            first_token: None,
        }
    }

    /// Reads the line at bytes `start..end` (without its line end).
    fn line(&mut self, start: usize, end: usize) {
        let text = self.text;
        let line = text.get(start..end).unwrap_or_default();
        match std::mem::replace(&mut self.mode, Mode::Block) {
            Mode::Block => self.block_line(start, line),
            Mode::Flow(mut flow) => match flow.scan(&mut self.tree, text, start, end) {
                Some(after) => {
                    let code = strip_comment(line).trim_end();
                    self.after_flow(start, code, line, after - start, flow.indent);
                }
                None => self.mode = Mode::Flow(flow),
            },
            Mode::Quoted { quote, node } => {
                match find_close(line.as_bytes(), 0, line.len(), quote) {
                    Some(close) => self.tree.end_value(node, start + close),
                    None => {
                        self.tree.end_value(node, end);
                        self.mode = Mode::Quoted { quote, node };
                    }
                }
            }
            Mode::BlockScalar {
                indent,
                content,
                node,
                shown,
            } => {
                let trimmed = line.trim_start_matches(' ');
                let at = line.len() - trimmed.len();
                let blank = trimmed.trim().is_empty();
                if blank || at >= content.unwrap_or(indent) {
                    if !shown && !blank {
                        // The first line of the scalar is where its value is shown.
                        let shown = trimmed.trim_end();
                        self.tree
                            .set_value(node, Span::new(start + at, start + at + shown.len()));
                    }
                    self.mode = Mode::BlockScalar {
                        indent,
                        content: content.or((!blank).then_some(at)),
                        node,
                        shown: shown || !blank,
                    };
                } else {
                    self.block_line(start, line);
                }
            }
        }
    }

    /// A line in block context.
    fn block_line(&mut self, start: usize, line: &str) {
        let code = strip_comment(line).trim_end();
        let indent = code.len() - code.trim_start_matches(' ').len();
        if indent == code.len() {
            return;
        }
        if indent == 0 {
            if let Some(after) = marker(code, "---") {
                self.stack.clear();
                self.root_items = 0;
                self.pending = None;
                self.documents += 1;
                self.open = true;
                if self.documents == 2 {
                    self.second_document = Some(Span::new(start, start + 3));
                }
                let rest = after.trim_start();
                if !rest.is_empty() {
                    let column = code.len() - rest.len();
                    self.content(start + column, rest);
                    self.value(start, code, line, column, Some(ROOT), 0);
                }
                return;
            }
            if marker(code, "...").is_some() {
                self.stack.clear();
                self.root_items = 0;
                self.pending = None;
                self.open = false;
                return;
            }
            if code.starts_with('%') {
                // A directive, before a document.
                return;
            }
        }
        let rest = code.get(indent..).unwrap_or_default();
        self.content(start + indent, rest);
        if let Some(pending) = self.pending.take()
            && indent >= pending.indent
            && !is_item(rest)
            && split_key(rest).is_none()
        {
            // The value of a key (or item) on the line after it.
            self.value(start, code, line, indent, pending.node, pending.indent);
            return;
        }
        self.structure(start, code, line, indent);
    }

    /// Notes content at `at` for the document count and the first token.
    fn content(&mut self, at: usize, rest: &str) {
        if !self.open {
            self.documents += 1;
            self.open = true;
            if self.documents == 2 {
                self.second_document = Some(word(at, rest));
            }
        }
        if self.first_token.is_none() && self.documents == 1 {
            self.first_token = Some(word(at, rest));
        }
    }

    /// Reads list items and keys from byte `column` of a block line; `code` is the line
    /// without its comment, `line` the whole line.
    fn structure(&mut self, start: usize, code: &str, line: &str, mut column: usize) {
        loop {
            let rest = code.get(column..).unwrap_or_default();
            let at = start + column;
            if is_item(rest) {
                while self
                    .stack
                    .last()
                    .is_some_and(|f| f.indent > column || (f.indent == column && f.item))
                {
                    self.stack.pop();
                }
                let index = match self.stack.last_mut() {
                    Some(frame) => &mut frame.items,
                    None => &mut self.root_items,
                };
                let seg = Seg::Index(*index);
                *index += 1;
                let after = rest.get(1..).unwrap_or_default();
                let content = after.trim_start();
                let content_column = column + 1 + (after.len() - content.len());
                let entry = Entry {
                    key: Span::new(at, start + code.len()),
                    value: None,
                };
                let Some(node) = self.enter(column, true, seg, entry, Span::new(at, at + 1)) else {
                    return;
                };
                if content.is_empty() {
                    self.pending = Some(Pending {
                        node,
                        indent: column + 1,
                    });
                    return;
                }
                if is_item(content) || split_key(content).is_some() {
                    column = content_column;
                    continue;
                }
                self.value(start, code, line, content_column, node, column + 1);
                return;
            }
            if let Some(key) = split_key(rest) {
                while self.stack.last().is_some_and(|f| f.indent >= column) {
                    self.stack.pop();
                }
                let span = key.span(at);
                let entry = Entry {
                    key: span,
                    value: None,
                };
                let value = key.value(rest);
                let Some(node) = self.enter(column, false, Seg::Key(key.name), entry, span) else {
                    return;
                };
                match value {
                    Some((offset, _)) => {
                        self.value(start, code, line, column + offset, node, column + 1);
                    }
                    None => {
                        self.pending = Some(Pending {
                            node,
                            indent: column + 1,
                        });
                    }
                }
                return;
            }
            if let Some(after) = ["? ", ": "]
                .iter()
                .find_map(|i| rest.strip_prefix(i))
                .or_else(|| (rest == "?" || rest == ":").then_some(""))
            {
                // A complex key or its value: not located, but what it holds is nested.
                let content = after.trim_start();
                if !content.is_empty() {
                    let content_column = code.len() - content.len();
                    self.value(start, code, line, content_column, None, column + 1);
                }
                return;
            }
            if self.stack.is_empty() {
                // A document that is a single scalar or flow collection.
                self.value(start, code, line, column, Some(ROOT), 0);
            }
            // Otherwise the continuation of a plain scalar over lines: nothing to locate.
            return;
        }
    }

    /// Opens a block node; `None` (and no more reading) when it nests too deeply.
    fn enter(
        &mut self,
        indent: usize,
        item: bool,
        seg: Seg,
        entry: Entry,
        at: Span,
    ) -> Option<Option<usize>> {
        if self.tree.too_deep(self.stack.len() + 1, at) {
            return None;
        }
        let parent = self.stack.last().map_or(Some(ROOT), |f| f.node);
        let node = self.tree.add(parent, seg, entry);
        self.stack.push(Frame {
            indent,
            item,
            items: 0,
            node,
        });
        Some(node)
    }

    /// The value written from byte `column` of a block line, belonging to `node`: a scalar,
    /// a flow collection, a quoted scalar or a block scalar. Lines that go on with it are
    /// indented at least `indent`.
    fn value(
        &mut self,
        start: usize,
        code: &str,
        line: &str,
        mut column: usize,
        node: Option<usize>,
        indent: usize,
    ) {
        // Skip an anchor or a tag: the value follows, on this line or the next.
        while let Some(rest) = code.get(column..)
            && rest.starts_with(['&', '!'])
        {
            let token = rest.find([' ', '\t']).unwrap_or(rest.len());
            let after = rest.get(token..).unwrap_or_default();
            column += token + (after.len() - after.trim_start().len());
            if column >= code.len() {
                self.pending = Some(Pending { node, indent });
                return;
            }
        }
        let rest = code.get(column..).unwrap_or_default();
        let at = start + column;
        match rest.as_bytes().first() {
            Some(b'[' | b'{') => {
                let mut flow = Flow::new(node, self.stack.len(), indent);
                match flow.scan(&mut self.tree, self.text, at, start + line.len()) {
                    Some(after) => self.after_flow(start, code, line, after - start, indent),
                    None => self.mode = Mode::Flow(flow),
                }
            }
            Some(&quote @ (b'"' | b'\'')) => {
                match find_close(rest.as_bytes(), 1, rest.len(), quote) {
                    Some(close) => self.tree.set_value(node, Span::new(at + 1, at + close)),
                    None => {
                        self.tree
                            .set_value(node, Span::new(at + 1, start + line.len()));
                        self.mode = Mode::Quoted { quote, node };
                    }
                }
            }
            Some(b'|' | b'>') => {
                self.tree.set_value(node, Span::new(at, at + rest.len()));
                let explicit = rest
                    .bytes()
                    .skip(1)
                    .find(|b| (b'1'..=b'9').contains(b))
                    .map(|b| usize::from(b - b'0'));
                self.mode = Mode::BlockScalar {
                    indent,
                    content: explicit.map(|d| (indent + d).saturating_sub(1)),
                    node,
                    shown: false,
                };
            }
            Some(_) => self.tree.set_value(node, scalar_span(at, rest)),
            None => {}
        }
    }

    /// What follows a flow collection that closed at byte `column` of a block line: nothing,
    /// or `: value` when the collection was a key.
    fn after_flow(&mut self, start: usize, code: &str, line: &str, column: usize, indent: usize) {
        let rest = code.get(column..).unwrap_or_default().trim_start();
        let value = rest
            .strip_prefix(':')
            .filter(|v| v.is_empty() || v.starts_with([' ', '\t']));
        if let Some(value) = value {
            let value = value.trim_start();
            if !value.is_empty() {
                self.value(start, code, line, code.len() - value.len(), None, indent);
            }
        }
    }
}

/// Where a flow scanner is between tokens.
#[derive(Debug, Clone, Copy)]
enum FlowState {
    /// Between tokens.
    Token,
    /// In a plain scalar that started at `start` and has text up to `end` so far.
    Plain { start: usize, end: usize },
    /// In a quoted scalar whose opening quote is at `start`.
    Quoted { quote: u8, start: usize },
}

/// An open flow collection.
#[derive(Debug)]
struct FlowFrame {
    mapping: bool,
    node: Option<usize>,
    /// Whether the node's key span is the collection, to be ended at its closing bracket.
    spans: bool,
    /// In a list: the index of the current item, and whether it has begun.
    items: usize,
    filled: bool,
    /// In a mapping: the current key, whether its `:` was read, and whether its value was.
    key: Option<(String, Span)>,
    colon: bool,
    valued: bool,
}

impl FlowFrame {
    /// Records a key of a mapping that was given no value (`{ a, b: 1 }`).
    fn flush_key(&mut self, tree: &mut Tree) {
        if let Some((name, key)) = self.key.take()
            && self.mapping
            && !self.valued
        {
            tree.add(self.node, Seg::Key(name), Entry { key, value: None });
        }
        self.colon = false;
        self.valued = false;
    }
}

/// A flow collection being read, possibly over several lines. It follows the YAML reader's
/// rules for where tokens start and end, so that it sees every bracket the reader sees.
#[derive(Debug)]
struct Flow {
    frames: Vec<FlowFrame>,
    /// The block node the collection is the value of.
    base: Option<usize>,
    /// How deeply that block node is nested.
    depth: usize,
    /// The indentation lines after it need, should the collection be a key.
    indent: usize,
    state: FlowState,
}

impl Flow {
    fn new(base: Option<usize>, depth: usize, indent: usize) -> Self {
        Self {
            frames: Vec::new(),
            base,
            depth,
            indent,
            state: FlowState::Token,
        }
    }

    /// Reads bytes `from..to` of `text` (the rest of one line); returns the offset just after
    /// the outermost collection's closing bracket, or `None` when the collection goes on (or
    /// nests too deeply).
    fn scan(&mut self, tree: &mut Tree, text: &str, from: usize, to: usize) -> Option<usize> {
        let bytes = text.as_bytes();
        let to = to.min(bytes.len());
        let mut i = from;
        loop {
            match self.state {
                FlowState::Quoted { quote, start } => {
                    let close = find_close(bytes, i, to, quote)?;
                    self.state = FlowState::Token;
                    self.scalar(tree, text, Span::new(start + 1, close));
                    i = close + 1;
                }
                FlowState::Plain { start, end } => {
                    // After a blank or a line break: more of the scalar, a comment, or its end.
                    let mut j = i;
                    while bytes.get(j).is_some_and(|b| matches!(b, b' ' | b'\t')) && j < to {
                        j += 1;
                    }
                    if j >= to {
                        return None;
                    }
                    if bytes.get(j) == Some(&b'#') {
                        self.finish_plain(tree, text);
                        return None;
                    }
                    let mut k = j;
                    let mut stop = false;
                    while k < to {
                        let b = bytes.get(k).copied().unwrap_or(b' ');
                        if matches!(b, b' ' | b'\t') {
                            break;
                        }
                        let next = if k + 1 < to {
                            bytes.get(k + 1).copied()
                        } else {
                            None
                        };
                        let colon = b == b':'
                            && next.is_none_or(|n| {
                                matches!(n, b' ' | b'\t' | b',' | b'[' | b']' | b'{' | b'}' | b'?')
                            });
                        if colon || matches!(b, b',' | b'[' | b']' | b'{' | b'}') {
                            stop = true;
                            break;
                        }
                        k += 1;
                    }
                    let end = if k > j { k } else { end };
                    self.state = FlowState::Plain { start, end };
                    if stop {
                        self.finish_plain(tree, text);
                    }
                    i = k;
                }
                FlowState::Token => {
                    while i < to && bytes.get(i).is_some_and(|b| matches!(b, b' ' | b'\t')) {
                        i += 1;
                    }
                    let b = *bytes.get(i).filter(|_| i < to)?;
                    match b {
                        b'#' => return None,
                        b'[' | b'{' => {
                            if !self.open(tree, b == b'{', i) {
                                return None;
                            }
                            i += 1;
                        }
                        b']' | b'}' => {
                            self.close(tree, i);
                            i += 1;
                            if self.frames.is_empty() {
                                return Some(i);
                            }
                        }
                        b',' => {
                            if let Some(frame) = self.frames.last_mut() {
                                if frame.mapping {
                                    frame.flush_key(tree);
                                } else if frame.filled {
                                    frame.items += 1;
                                    frame.filled = false;
                                }
                            }
                            i += 1;
                        }
                        b':' => {
                            if let Some(frame) = self.frames.last_mut() {
                                frame.colon = true;
                            }
                            i += 1;
                        }
                        b'?' => i += 1,
                        b'-' if i + 1 >= to
                            || bytes.get(i + 1).is_some_and(|n| matches!(n, b' ' | b'\t')) =>
                        {
                            i += 1;
                        }
                        b'"' | b'\'' => {
                            self.state = FlowState::Quoted { quote: b, start: i };
                            i += 1;
                        }
                        b'&' | b'!' | b'*' => {
                            let start = i;
                            while i < to
                                && bytes.get(i).is_some_and(|c| {
                                    !matches!(c, b' ' | b'\t' | b',' | b'[' | b']' | b'{' | b'}')
                                })
                            {
                                i += 1;
                            }
                            if b == b'*' {
                                self.scalar(tree, text, Span::new(start, i));
                            }
                        }
                        _ => self.state = FlowState::Plain { start: i, end: i },
                    }
                }
            }
        }
    }

    /// Ends a plain scalar being read, if one is.
    fn finish_plain(&mut self, tree: &mut Tree, text: &str) {
        if let FlowState::Plain { start, end } = self.state {
            self.state = FlowState::Token;
            self.scalar(tree, text, Span::new(start, end));
        }
    }

    /// A scalar written at `span`: a key, a value, or a list item.
    fn scalar(&mut self, tree: &mut Tree, text: &str, span: Span) {
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        if !frame.mapping {
            tree.add(
                frame.node,
                Seg::Index(frame.items),
                Entry {
                    key: span,
                    value: Some(span),
                },
            );
            frame.filled = true;
        } else if !frame.colon {
            let name = text.get(span.start..span.end).unwrap_or_default();
            frame.key = Some((name.to_owned(), span));
        } else if let Some((name, key)) = frame.key.as_ref().filter(|_| !frame.valued) {
            let entry = Entry {
                key: *key,
                value: Some(span),
            };
            tree.add(frame.node, Seg::Key(name.clone()), entry);
            frame.valued = true;
        }
    }

    /// Opens a collection at byte `at`; false when that nests too deeply.
    fn open(&mut self, tree: &mut Tree, mapping: bool, at: usize) -> bool {
        let bracket = Span::new(at, at + 1);
        if tree.too_deep(self.depth + self.frames.len() + 1, bracket) {
            return false;
        }
        let (node, spans) = match self.frames.last_mut() {
            None => (self.base, false),
            Some(parent) if !parent.mapping => {
                let seg = Seg::Index(parent.items);
                parent.filled = true;
                let entry = Entry {
                    key: bracket,
                    value: None,
                };
                (tree.add(parent.node, seg, entry), true)
            }
            Some(parent) => match parent
                .key
                .as_ref()
                .filter(|_| parent.colon && !parent.valued)
            {
                Some((name, key)) => {
                    let entry = Entry {
                        key: *key,
                        value: None,
                    };
                    let node = tree.add(parent.node, Seg::Key(name.clone()), entry);
                    parent.valued = true;
                    (node, false)
                }
                // A collection as a key: not located.
                None => (None, false),
            },
        };
        self.frames.push(FlowFrame {
            mapping,
            node,
            spans,
            items: 0,
            filled: false,
            key: None,
            colon: false,
            valued: false,
        });
        true
    }

    /// Closes the innermost collection at its bracket at byte `at`.
    fn close(&mut self, tree: &mut Tree, at: usize) {
        if let Some(mut frame) = self.frames.pop() {
            frame.flush_key(tree);
            if frame.spans {
                tree.end_key(frame.node, at + 1);
            }
        }
    }
}

/// Whether a block line's content from here is a list item: `-` then a blank or the end.
fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ") || text.starts_with("-\t")
}

/// The rest of `code` after a document marker (`---` or `...`) that starts it.
fn marker<'c>(code: &'c str, marker: &str) -> Option<&'c str> {
    code.strip_prefix(marker)
        .filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// The span of the token at `at` that starts `rest`: a bracket, or up to a blank.
fn word(at: usize, rest: &str) -> Span {
    let len = if rest.starts_with(['[', '{']) {
        1
    } else {
        rest.find([' ', '\t']).unwrap_or(rest.len())
    };
    Span::new(at, at + len)
}

/// A `key:` at the start of a text.
#[derive(Debug)]
struct Key {
    name: String,
    /// The end of the key as written (after its closing quote, if quoted).
    end: usize,
    /// Where the value starts: just after the `:`.
    value_start: usize,
}

impl Key {
    /// The key as written in a text that starts at byte `at`.
    fn span(&self, at: usize) -> Span {
        Span::new(at, at + self.end)
    }

    /// The trimmed value after the key in `text` and its offset, if there is a value.
    fn value<'t>(&self, text: &'t str) -> Option<(usize, &'t str)> {
        let after = text.get(self.value_start..)?;
        let value = after.trim();
        let offset = self.value_start + (after.len() - after.trim_start().len());
        (!value.is_empty()).then_some((offset, value))
    }
}

/// The key of `text` if it starts with `key:` followed by a space or the end.
fn split_key(text: &str) -> Option<Key> {
    let (name, end) = match text.chars().next()? {
        quote @ ('"' | '\'') => {
            let close = find_close(text.as_bytes(), 1, text.len(), quote as u8)?;
            (text.get(1..close)?.to_owned(), close + 1)
        }
        '[' | '{' | '-' | '#' | '?' | ':' | '|' | '>' | '&' | '!' | '*' => return None,
        _ => {
            let colon = text
                .match_indices(':')
                .map(|(i, _)| i)
                .find(|&i| matches!(text.get(i + 1..i + 2), None | Some(" " | "\t")))?;
            (text.get(..colon)?.trim_end().to_owned(), colon)
        }
    };
    let after = text.get(end..)?;
    let colon = end + (after.len() - after.trim_start().len());
    let rest = text.get(colon..)?;
    if !(rest == ":" || rest.starts_with(": ") || rest.starts_with(":\t")) || name.is_empty() {
        return None;
    }
    Some(Key {
        name,
        end,
        value_start: colon + 1,
    })
}

/// The span of a scalar written at `at`: inside its quotes, if quoted.
fn scalar_span(at: usize, text: &str) -> Span {
    let quoted = text.len() >= 2
        && matches!(text.chars().next(), Some(q @ ('"' | '\'')) if text.ends_with(q));
    if quoted {
        Span::new(at + 1, at + text.len() - 1)
    } else {
        Span::new(at, at + text.len())
    }
}

/// The offset of the quote that closes a quoted scalar, searching bytes `from..to` (just after
/// the opening quote, or the start of a line it goes on over): `\` escapes in double quotes,
/// `''` stands for a quote in single quotes.
fn find_close(bytes: &[u8], from: usize, to: usize, quote: u8) -> Option<usize> {
    let to = to.min(bytes.len());
    let mut i = from;
    while i < to {
        let b = bytes.get(i).copied()?;
        if quote == b'"' && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if quote == b'\'' && i + 1 < to && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The line without its comment: a `#` at the start or after a space, outside quotes.
fn strip_comment(line: &str) -> &str {
    let mut previous: Option<char> = None;
    let mut skip_to = 0;
    for (i, c) in line.char_indices() {
        if i >= skip_to {
            match c {
                '#' if previous.is_none_or(char::is_whitespace) => {
                    return line.get(..i).unwrap_or(line);
                }
                '"' | '\''
                    if previous.is_none_or(|p| matches!(p, ' ' | '\t' | '[' | '{' | ',')) =>
                {
                    match find_close(line.as_bytes(), i + 1, line.len(), c as u8) {
                        Some(close) => skip_to = close + 1,
                        // A quoted scalar that goes on to the next line.
                        None => return line,
                    }
                }
                _ => {}
            }
        }
        previous = Some(c);
    }
    line
}

#[cfg(test)]
mod tests;
