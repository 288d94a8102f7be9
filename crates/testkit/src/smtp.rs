//! An SMTP sink on 127.0.0.1 that speaks STARTTLS with a [`TestCa`] certificate and keeps
//! every message it accepts, so a test can check what an SMTP client (lettre) sent.
//!
//! It follows RFC 5321/3207/4954 as far as a client that behaves needs: `EHLO` (announcing
//! `STARTTLS` before the upgrade and `AUTH PLAIN LOGIN` after it), `STARTTLS`, `AUTH PLAIN`
//! and `AUTH LOGIN`, `MAIL`, `RCPT`, `DATA` (with dot-unstuffing), `RSET`, `NOOP`, `QUIT`.
//! Mail or authentication before `STARTTLS` is refused with 530, as a submission server
//! requiring TLS does.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader,
};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::pki::TestCa;

/// One message the sink accepted.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body), dot-unstuffed.
    pub data: String,
    /// Whether the session was upgraded with STARTTLS before the message.
    pub tls: bool,
    /// The user and password the client signed in with, if it did.
    pub auth: Option<(String, String)>,
}

/// A running sink; stops when dropped.
pub struct SmtpSink {
    port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    ca_pem: String,
    /// Kept so its CA file lives as long as the sink (for [`SmtpSink::trust`]).
    ca: TestCa,
    task: tokio::task::JoinHandle<()>,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl SmtpSink {
    /// Starts a sink with a fresh test CA.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start() -> Self {
        let ca = TestCa::new("usersync SMTP test CA");
        let files = ca.issue(&["127.0.0.1", "localhost"]);
        let cert = usersync_tls::ServerCert::load(&files.cert, &files.key)
            .expect("the sink's certificate");
        let acceptor = TlsAcceptor::from(
            usersync_tls::server_config(Arc::new(cert)).expect("a TLS server configuration"),
        );
        let ca_pem = std::fs::read_to_string(ca.ca_file()).expect("the CA's certificate");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let kept = mails.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, kept) = (acceptor.clone(), kept.clone());
                tokio::spawn(async move {
                    let _ = session(Box::new(stream), acceptor, kept).await;
                });
            }
        });
        Self {
            port,
            mails,
            ca_pem,
            ca,
            task,
        }
    }

    /// The host to configure: `127.0.0.1`.
    #[must_use]
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PEM of the CA that signed the sink's certificate (what the client must trust).
    #[must_use]
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The sink's CA as usersync's global trust (what `--ca-file` gives `Deps::trust`).
    ///
    /// # Panics
    /// When the CA file the sink wrote cannot be read back.
    #[must_use]
    pub fn trust(&self) -> usersync_tls::TrustRoots {
        let bundle = usersync_tls::CaBundle::load(self.ca.ca_file()).expect("the CA file loads");
        usersync_tls::TrustRoots::none().with(bundle)
    }

    /// Every message accepted so far.
    ///
    /// # Panics
    /// When the lock is poisoned.
    #[must_use]
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("the mails").clone()
    }

    /// Waits (up to `limit`) until at least `count` messages arrived; returns them all.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let now = self.mails();
            if now.len() >= count || tokio::time::Instant::now() >= deadline {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bounds on what one session may send, so a broken client cannot exhaust memory.
const MAX_LINE: usize = 4096;
const MAX_DATA: usize = 1 << 20;

struct Conversation {
    reader: BufReader<Box<dyn Io>>,
    tls: bool,
    auth: Option<(String, String)>,
    mail: Mail,
}

impl Conversation {
    async fn say(&mut self, line: &str) -> std::io::Result<()> {
        let out = self.reader.get_mut();
        out.write_all(line.as_bytes()).await?;
        out.write_all(b"\r\n").await?;
        out.flush().await
    }

    /// One line without its CRLF; `None` at the end of the stream or over the bound.
    async fn line(&mut self) -> std::io::Result<Option<String>> {
        let mut buf = Vec::new();
        let read = (&mut self.reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut buf)
            .await?;
        if read == 0 || !buf.ends_with(b"\n") {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&buf);
        Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()))
    }
}

async fn session(
    stream: Box<dyn Io>,
    acceptor: TlsAcceptor,
    mails: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let mut c = Conversation {
        reader: BufReader::new(stream),
        tls: false,
        auth: None,
        mail: Mail::default(),
    };
    c.say("220 127.0.0.1 usersync test sink ESMTP").await?;
    while let Some(line) = c.line().await? {
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("").to_owned();
        match verb.as_str() {
            "EHLO" if c.tls => {
                c.say("250-127.0.0.1\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME")
                    .await?
            }
            "EHLO" => {
                c.say("250-127.0.0.1\r\n250-STARTTLS\r\n250 8BITMIME")
                    .await?
            }
            "HELO" => c.say("250 127.0.0.1").await?,
            "STARTTLS" if c.tls => c.say("503 already in TLS").await?,
            "STARTTLS" => {
                c.say("220 ready to start TLS").await?;
                let inner = c.reader.into_inner();
                let tls = acceptor.accept(inner).await?;
                c = Conversation {
                    reader: BufReader::new(Box::new(tls)),
                    tls: true,
                    auth: None,
                    mail: Mail::default(),
                };
            }
            "AUTH" | "MAIL" if !c.tls => c.say("530 must issue a STARTTLS command first").await?,
            "AUTH" => auth(&mut c, &line).await?,
            "MAIL" => {
                c.mail = Mail {
                    from: address(&line),
                    ..Mail::default()
                };
                c.say("250 sender ok").await?;
            }
            "RCPT" => {
                c.mail.to.push(address(&line));
                c.say("250 recipient ok").await?;
            }
            "DATA" => {
                c.say("354 end data with <CR><LF>.<CR><LF>").await?;
                let data = read_data(&mut c).await?;
                let mut mail = std::mem::take(&mut c.mail);
                mail.data = data;
                mail.tls = c.tls;
                mail.auth.clone_from(&c.auth);
                if let Ok(mut all) = mails.lock() {
                    all.push(mail);
                }
                c.say("250 queued").await?;
            }
            "RSET" => {
                c.mail = Mail::default();
                c.say("250 ok").await?;
            }
            "NOOP" => c.say("250 ok").await?,
            "QUIT" => {
                c.say("221 bye").await?;
                return Ok(());
            }
            _ => c.say("502 command not implemented").await?,
        }
    }
    Ok(())
}

/// The address inside `<...>` of `MAIL FROM:<a>` or `RCPT TO:<a>`.
fn address(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(inside, _)| inside.to_owned())
        .unwrap_or_default()
}

fn decode(text: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

async fn auth(c: &mut Conversation, line: &str) -> std::io::Result<()> {
    let parts: Vec<&str> = line.split_whitespace().collect();
    let mechanism = parts.get(1).map(|m| m.to_ascii_uppercase());
    let (user, password) = match mechanism.as_deref() {
        Some("PLAIN") => {
            let initial = match parts.get(2) {
                Some(text) => (*text).to_owned(),
                None => {
                    c.say("334 ").await?;
                    c.line().await?.unwrap_or_default()
                }
            };
            // authzid NUL authcid NUL password
            let decoded = decode(&initial);
            let mut fields = decoded.split('\0').skip(1);
            let user = fields.next().unwrap_or_default().to_owned();
            (user, fields.next().unwrap_or_default().to_owned())
        }
        Some("LOGIN") => {
            c.say("334 VXNlcm5hbWU6").await?;
            let user = decode(&c.line().await?.unwrap_or_default());
            c.say("334 UGFzc3dvcmQ6").await?;
            (user, decode(&c.line().await?.unwrap_or_default()))
        }
        _ => return c.say("504 unrecognised authentication mechanism").await,
    };
    c.auth = Some((user, password));
    c.say("235 authentication succeeded").await
}

async fn read_data(c: &mut Conversation) -> std::io::Result<String> {
    let mut data = String::new();
    while let Some(line) = c.line().await? {
        if line == "." {
            break;
        }
        if data.len() < MAX_DATA {
            data.push_str(line.strip_prefix('.').unwrap_or(&line));
            data.push('\n');
        }
    }
    Ok(data)
}
