//! windows-1250 XML in and out: the encoding step (encoding_rs) and a small element tree over
//! quick-xml's namespace-aware reader, enough to read result files and, in the fake, whole
//! offline documents. Hand-written rather than a DOM crate because the documents are small,
//! flat and only ever walked by element name; quick-xml does the parsing.

use encoding_rs::WINDOWS_1250;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// The offline format's namespace.
pub const NS: &str = "http://www.comarch.pl/cdn/optima/offline";

/// Encode a document written as text into windows-1250. Every Polish letter has a
/// windows-1250 byte; a character that has none (an emoji in a product name) becomes an XML
/// numeric character reference, which Optima reads back as that character.
pub fn encode_1250(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let mut buf = [0u8; 4];
        let s = c.encode_utf8(&mut buf);
        let (bytes, _, unmappable) = WINDOWS_1250.encode(s);
        if unmappable {
            out.extend_from_slice(format!("&#{};", u32::from(c)).as_bytes());
        } else {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

/// Why bytes are not a windows-1250 XML document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the XML declaration names encoding `{0}`, not windows-1250")]
    WrongEncoding(String),
    #[error("the XML declaration names no encoding (windows-1250 is required)")]
    NoEncoding,
    #[error("byte {byte:#04x} at offset {offset} is not a windows-1250 character")]
    BadByte { byte: u8, offset: usize },
}

/// The encoding the document's XML declaration names, if it has one.
pub fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(200)];
    let head = String::from_utf8_lossy(head);
    let decl = head.strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next()?;
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_owned())
}

/// Decode a document that must be windows-1250 (declared so, and every byte a character).
pub fn decode_1250(bytes: &[u8]) -> Result<String, DecodeError> {
    match declared_encoding(bytes) {
        Some(e) if e.eq_ignore_ascii_case("windows-1250") || e.eq_ignore_ascii_case("cp1250") => {}
        Some(e) => return Err(DecodeError::WrongEncoding(e)),
        None => return Err(DecodeError::NoEncoding),
    }
    // The five bytes windows-1250 leaves undefined; encoding_rs maps them to C1 controls
    // instead of failing, so they are checked here.
    if let Some((offset, &byte)) = bytes
        .iter()
        .enumerate()
        .find(|(_, b)| matches!(b, 0x81 | 0x83 | 0x88 | 0x90 | 0x98))
    {
        return Err(DecodeError::BadByte { byte, offset });
    }
    let (text, _) = WINDOWS_1250.decode_without_bom_handling(bytes);
    Ok(text.into_owned())
}

/// One element: its namespace, local name, text (concatenated, CDATA included) and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub ns: Option<String>,
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of a child, if present.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

/// Parse decoded text into its root element.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let at = reader.buffer_position();
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("XML error after byte {at}: {e}"))?;
        let ns = match ns {
            ResolveResult::Bound(n) => Some(String::from_utf8_lossy(n.as_ref()).into_owned()),
            _ => None,
        };
        match event {
            Event::Start(e) => stack.push(Element {
                ns,
                name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                ..Element::default()
            }),
            Event::Empty(e) => {
                let el = Element {
                    ns,
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.unescape().map_err(|e| format!("XML text: {e}"))?;
                    top.text.push_str(&s);
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::Eof => return Err("the document ends before its root element closes".into()),
            _ => {}
        }
    }
}

/// Text content escaped for XML (the five predefined entities).
pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}
