//! A JSON text as one flat vector of nodes in document order that borrows its strings from the
//! text: what admission reads, at a few allocations per text instead of one per string and
//! container ([`super::Value`] owns everything, for the values a program keeps and edits).

use super::{replay, Build, Leaf, Text, Value};

/// The children of a container: `len` items (for an object, `len` members, each a name node then
/// its value) from node `start` on. A child that is a container is followed by its descendants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub len: usize,
}

/// A string of a [`Doc`] (its text is [`Doc::text`]): borrowed from the text read, or decoded
/// (it held escapes) and kept by the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Str<'t>(StrAt<'t>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrAt<'t> {
    Borrowed(&'t str),
    Decoded { start: usize, end: usize },
}

/// A node of a [`Doc`]; numbers are finite doubles, as in [`Value`]. Plain data, written once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Node<'t> {
    Null,
    Bool(bool),
    Number(f64),
    String(Str<'t>),
    /// `end`: the node after its last descendant.
    Array {
        items: Span,
        end: u32,
    },
    Object {
        members: Span,
        end: u32,
    },
}

/// The absent value, for a child asked of a container that has too few.
static NULL: Node<'static> = Node::Null;

/// A strict-read JSON text (see [`super::parse_doc`]), or a [`Value`] viewed as one: its nodes in
/// document order, each container followed by its descendants.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc<'t> {
    nodes: Vec<Node<'t>>,
    /// The text of the strings that held escapes.
    decoded: String,
}

impl<'t> Doc<'t> {
    pub fn root(&self) -> &Node<'t> {
        self.nodes.first().unwrap_or(&NULL)
    }

    /// The items of an array.
    pub fn items(&self, span: Span) -> Items<'_, 't> {
        Items { nodes: &self.nodes, at: span.start, left: span.len }
    }

    /// The text of a string of this document.
    pub fn text<'d>(&'d self, s: &Str<'t>) -> &'d str {
        match s.0 {
            StrAt::Borrowed(text) => text,
            StrAt::Decoded { start, end } => self.decoded.get(start..end).unwrap_or_default(),
        }
    }

    /// The members of an object in document order.
    pub fn members(&self, span: Span) -> impl Iterator<Item = (&str, &Node<'t>)> + '_ {
        let mut nodes = Items { nodes: &self.nodes, at: span.start, left: 2 * span.len };
        std::iter::from_fn(move || match (nodes.next(), nodes.next()) {
            (Some(Node::String(name)), Some(value)) => Some((self.text(name), value)),
            _ => None,
        })
    }

    /// `value` as a document whose strings borrow from it; order, numbers and names unchanged.
    pub fn from_value(value: &'t Value) -> Doc<'t> {
        let mut doc = DocBuilder::for_text(0);
        replay(value, &mut doc);
        doc.finish()
    }
}

/// The children of a container, stepping over the descendants of those that are containers.
#[derive(Debug, Clone)]
pub struct Items<'d, 't> {
    nodes: &'d [Node<'t>],
    at: usize,
    left: usize,
}

impl<'d, 't> Items<'d, 't> {
    /// The items when there are exactly `N`.
    pub fn exactly<const N: usize>(&self) -> Option<[&'d Node<'t>; N]> {
        if self.left != N {
            return None;
        }
        let mut out = [&NULL; N];
        for (slot, node) in out.iter_mut().zip(self.clone()) {
            *slot = node;
        }
        Some(out)
    }

    /// The first item, or null when there is none.
    pub fn first(&self) -> &'d Node<'t> {
        self.clone().next().unwrap_or(&NULL)
    }
}

impl<'d, 't> Iterator for Items<'d, 't> {
    type Item = &'d Node<'t>;

    fn next(&mut self) -> Option<&'d Node<'t>> {
        if self.left == 0 {
            return None;
        }
        let node = self.nodes.get(self.at)?;
        self.at = match node {
            Node::Array { end, .. } | Node::Object { end, .. } => *end as usize,
            _ => self.at + 1,
        };
        self.left -= 1;
        Some(node)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Items<'_, '_> {}

/// Builds a [`Doc`]: every node is written where it stays; a container's is completed when it
/// closes.
pub(super) struct DocBuilder<'t> {
    nodes: Vec<Node<'t>>,
    /// The node of each open container.
    open: Vec<usize>,
    decoded: String,
}

/// Most nodes reserved up front from a text's length; larger documents grow as needed.
const MAX_RESERVE: usize = 4096;

/// A node index or count as stored in a [`Node`]: more nodes than this would take hundreds of
/// gigabytes, far past any reader limit.
fn narrow(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'t> DocBuilder<'t> {
    /// A builder with room for a text of `len` bytes (a node takes about five bytes of text).
    pub(super) fn for_text(len: usize) -> DocBuilder<'t> {
        DocBuilder {
            nodes: Vec::with_capacity((len / 4).clamp(8, MAX_RESERVE)),
            open: Vec::with_capacity(8),
            decoded: String::new(),
        }
    }

    pub(super) fn finish(self) -> Doc<'t> {
        Doc { nodes: self.nodes, decoded: self.decoded }
    }

    /// Closes the innermost open container: its node and end.
    #[inline(always)]
    fn close(&mut self) -> Option<(&mut Node<'t>, u32)> {
        let at = self.open.pop()?;
        let end = narrow(self.nodes.len());
        Some((self.nodes.get_mut(at)?, end))
    }

    fn string(&mut self, s: Text<'t, '_>) -> Node<'t> {
        Node::String(Str(match s {
            Text::Borrowed(text) => StrAt::Borrowed(text),
            Text::Scratch(text) => {
                let start = self.decoded.len();
                self.decoded.push_str(text);
                StrAt::Decoded { start, end: self.decoded.len() }
            }
        }))
    }
}

impl<'t> Build<'t> for DocBuilder<'t> {
    #[inline(always)]
    fn leaf(&mut self, leaf: Leaf<'t, '_>, _start: usize, _end: usize) {
        let node = match leaf {
            Leaf::Null => Node::Null,
            Leaf::Bool(b) => Node::Bool(b),
            Leaf::Number(n) => Node::Number(n),
            Leaf::String(s) => self.string(s),
        };
        self.nodes.push(node);
    }
    #[inline(always)]
    fn open_array(&mut self, _hint: usize, _at: usize) {
        let at = self.nodes.len();
        self.nodes.push(Node::Array { items: Span { start: at + 1, len: 0 }, end: 0 });
        self.open.push(at);
    }
    #[inline(always)]
    fn close_array(&mut self, len: usize, _at: usize) {
        if let Some((Node::Array { items, end, .. }, after)) = self.close() {
            items.len = len;
            *end = after;
        }
    }
    #[inline(always)]
    fn open_object(&mut self, _hint: usize, _at: usize) {
        let at = self.nodes.len();
        self.nodes.push(Node::Object { members: Span { start: at + 1, len: 0 }, end: 0 });
        self.open.push(at);
    }
    #[inline(always)]
    fn name(&mut self, name: Text<'t, '_>, _start: usize, _end: usize) {
        let name = self.string(name);
        self.nodes.push(name);
    }
    #[inline(always)]
    fn close_object(&mut self, len: usize, _at: usize) {
        if let Some((Node::Object { members, end }, after)) = self.close() {
            members.len = len;
            *end = after;
        }
    }
}
