//! Synthetic, valid documents in bulk for the benchmarks and the memory check: 004010 850s and
//! D96A ORDERS, batched 100 transaction sets per interchange like a VAN pickup. Every document
//! produced here validates clean (tested), so the benchmarks measure the success path.

use std::io::Read;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    X12_850,
    EdifactOrders,
}

const SETS_PER_INTERCHANGE: u32 = 100;

fn x12_set(out: &mut String, n: u32) {
    let ctl = format!("{:04}", n % 10000);
    let start = out.len();
    let mut segs = 0;
    let mut seg = |out: &mut String, s: &str| {
        out.push_str(s);
        out.push('~');
        segs += 1;
    };
    seg(out, &format!("ST*850*{ctl}"));
    seg(out, &format!("BEG*00*SA*PO{n:08}**20260301"));
    seg(out, "REF*DP*038");
    seg(out, "DTM*002*20260315");
    seg(out, "N1*ST*ACME DISTRIBUTION CENTER 7*92*0007");
    seg(out, "N3*100 MAIN STREET*DOCK 4");
    seg(out, "N4*SPRINGFIELD*IL*62701*US");
    for l in 1..=8 {
        seg(
            out,
            &format!(
                "PO1*{l}*{}*EA*{}.25**VP*SKU-{n:06}-{l}*UP*01234567890{}",
                l * 3,
                l + 10,
                l % 10
            ),
        );
        seg(out, &format!("PID*F****STEEL FLAT BAR A36 LINE {l}"));
    }
    seg(out, "CTT*8");
    let _ = start;
    out.push_str(&format!("SE*{}*{ctl}~", segs + 1));
}

fn edifact_set(out: &mut String, n: u32) {
    let mut segs = 0;
    let mut seg = |out: &mut String, s: &str| {
        out.push_str(s);
        out.push('\'');
        segs += 1;
    };
    seg(out, &format!("UNH+{n}+ORDERS:D:96A:UN:EAN008"));
    seg(out, &format!("BGM+220+PO{n:08}+9"));
    seg(out, "DTM+137:20260301:102");
    seg(out, "DTM+2:20260315:102");
    seg(out, "NAD+BY+5412345000013::9");
    seg(
        out,
        "NAD+DP+5412345000020::9++ACME DC 7+100 MAIN ST+SPRINGFIELD++62701+US",
    );
    seg(out, "CUX+2:EUR:9");
    for l in 1..=8 {
        seg(out, &format!("LIN+{l}++400638133393{}:EN", l % 10));
        seg(out, &format!("IMD+F++:::STEEL FLAT BAR A36 LINE {l}"));
        seg(out, &format!("QTY+21:{}:PCE", l * 3));
        seg(out, &format!("PRI+AAA:{}.25", l + 10));
    }
    seg(out, "UNS+S");
    seg(out, "CNT+2:8");
    out.push_str(&format!("UNT+{}+{n}'", segs + 1));
}

/// One interchange holding `SETS_PER_INTERCHANGE` sets, numbered from `first`.
pub fn interchange(kind: Kind, index: u32) -> String {
    let mut out = String::with_capacity(80 * 1024);
    let first = index * SETS_PER_INTERCHANGE;
    match kind {
        Kind::X12_850 => {
            let ctl = format!("{:09}", index % 1_000_000_000);
            out.push_str(&format!("ISA*00*          *00*          *ZZ*BIGBOXRETAIL   *ZZ*SWITCHYARD     *260301*0800*U*00401*{ctl}*0*P*>~"));
            out.push_str(&format!(
                "GS*PO*BIGBOX*SWITCHYARD*20260301*0800*{}*X*004010~",
                index + 1
            ));
            for n in first..first + SETS_PER_INTERCHANGE {
                x12_set(&mut out, n);
            }
            out.push_str(&format!(
                "GE*{SETS_PER_INTERCHANGE}*{}~IEA*1*{ctl}~\n",
                index + 1
            ));
        }
        Kind::EdifactOrders => {
            out.push_str(&format!(
                "UNB+UNOC:3+5412345000013:14+5498765000019:14+260301:0800+I{index}'"
            ));
            for n in first..first + SETS_PER_INTERCHANGE {
                edifact_set(&mut out, n + 1);
            }
            out.push_str(&format!("UNZ+{SETS_PER_INTERCHANGE}+I{index}'\n"));
        }
    }
    out
}

/// At least `bytes` bytes of whole interchanges.
pub fn file(kind: Kind, bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 100 * 1024);
    let mut i = 0;
    while out.len() < bytes {
        out.extend_from_slice(interchange(kind, i).as_bytes());
        i += 1;
    }
    out
}

/// A `Read` that produces `total` bytes (rounded up to whole interchanges) without holding
/// them, for memory checks on inputs far larger than RAM would allow to buffer.
pub struct SynthReader {
    kind: Kind,
    total: u64,
    produced: u64,
    index: u32,
    chunk: Vec<u8>,
    pos: usize,
}

impl SynthReader {
    pub fn new(kind: Kind, total: u64) -> Self {
        SynthReader {
            kind,
            total,
            produced: 0,
            index: 0,
            chunk: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for SynthReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.chunk.len() {
            if self.produced >= self.total {
                return Ok(0);
            }
            self.chunk = interchange(self.kind, self.index).into_bytes();
            self.index += 1;
            self.pos = 0;
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        self.produced += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{read_all, Unit};
    use crate::validate::validate;

    #[test]
    fn synthetic_documents_validate_clean() {
        for kind in [Kind::X12_850, Kind::EdifactOrders] {
            let bytes = file(kind, 1);
            let units = read_all(&bytes);
            assert_eq!(units.len(), 1);
            let Unit::Interchange(ic) = &units[0] else {
                panic!("not an interchange")
            };
            assert_eq!(ic.groups.iter().map(|g| g.sets.len()).sum::<usize>(), 100);
            let v = validate(ic);
            assert!(
                v.issues.is_empty(),
                "{kind:?}: {:?}",
                v.issues
                    .iter()
                    .take(3)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn synth_reader_streams_the_requested_size() {
        let mut r = SynthReader::new(Kind::EdifactOrders, 200_000);
        let mut n = 0u64;
        let mut buf = [0u8; 4096];
        loop {
            let k = r.read(&mut buf).expect("read");
            if k == 0 {
                break;
            }
            n += k as u64;
        }
        assert!((200_000..300_000).contains(&n), "{n}");
    }
}
