//! A real SMTP listener for the tests: it speaks enough of RFC 5321 (greeting, EHLO/HELO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT) to take the server's mail, and keeps every message
//! so a test can read the link it carries.

// Each test file uses a part of this.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One received message: its recipients and its whole text (headers and body).
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub text: String,
}

pub struct SmtpListener {
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
}

impl SmtpListener {
    pub fn start() -> SmtpListener {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let kept = messages.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = kept.clone();
                std::thread::spawn(move || serve(stream, &kept));
            }
        });
        SmtpListener { port, messages }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The newest message to `address`, waiting up to five seconds for it.
    pub fn wait_for(&self, address: &str) -> Received {
        self.wait_for_text(address, "")
    }

    /// The newest message to `address` whose text contains `needle`, waiting up to five
    /// seconds for it (mail is sent after the answer, so it may come a moment later).
    pub fn wait_for_text(&self, address: &str, needle: &str) -> Received {
        let started = Instant::now();
        loop {
            if let Some(found) = self
                .messages
                .lock()
                .expect("lock")
                .iter()
                .rev()
                .find(|m| m.to.iter().any(|t| t.contains(address)) && m.text.contains(needle))
            {
                return found.clone();
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "no mail to {address} with {needle:?} arrived"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn count_to(&self, address: &str) -> usize {
        self.messages
            .lock()
            .expect("lock")
            .iter()
            .filter(|m| m.to.iter().any(|t| t.contains(address)))
            .count()
    }
}

fn serve(stream: TcpStream, kept: &Mutex<Vec<Received>>) {
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    let mut say = |line: &str| writer.write_all(format!("{line}\r\n").as_bytes());
    if say("220 newsdesk-test ESMTP").is_err() {
        return;
    }
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply = if command.starts_with("EHLO") || command.starts_with("HELO") {
            "250 newsdesk-test"
        } else if command.starts_with("MAIL FROM") || command.starts_with("NOOP") {
            "250 OK"
        } else if command.starts_with("RSET") {
            to.clear();
            "250 OK"
        } else if command.starts_with("RCPT TO") {
            to.push(line.trim_end()[8..].trim().to_owned());
            "250 OK"
        } else if command == "DATA" {
            if say("354 go ahead").is_err() {
                return;
            }
            let mut text = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line.trim_end() == "." {
                    break;
                }
                // Undo dot-stuffing.
                text.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            kept.lock().expect("lock").push(Received {
                to: std::mem::take(&mut to),
                text,
            });
            "250 queued"
        } else if command == "QUIT" {
            let _ = say("221 bye");
            return;
        } else {
            "502 not here"
        };
        if say(reply).is_err() {
            return;
        }
    }
}

/// The first `http…` address in a mail that contains `path`, with quoted-printable soft
/// line breaks undone.
pub fn link_in(mail: &Received, path: &str) -> String {
    let text = mail.text.replace("=\r\n", "").replace("=\n", "");
    text.split_whitespace()
        .find(|w| w.starts_with("http") && w.contains(path))
        .unwrap_or_else(|| panic!("no {path} link in:\n{}", mail.text))
        .to_owned()
}
