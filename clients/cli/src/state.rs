//! The device's state in one local file: server address, device token, sync-core engine bytes
//! (every collected response) and when the last sync happened.
//!
//! The file holds unsynced survey data and a secret, so:
//! - it is replaced atomically (temp file, fsync, rename, fsync of the folder): a crash or a
//!   power cut mid-write leaves the previous state or the new one, never a mix;
//! - it is created with mode 0600 in a folder made with mode 0700;
//! - a checksum covers its content, and a file that fails to load is reported and never
//!   overwritten, so a damaged file can still be handed to someone who can rescue it;
//! - a lock next to it keeps two `survey` commands from both loading it and one of them
//!   writing back a state without the other's response.

use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};
use sync_core::ClientEngine;
use uuid::Uuid;

use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"SURVEY\x00\x01";
const DIGEST_LEN: usize = 32;
const FORMAT_VERSION: u32 = 1;

/// A device's bearer token. Never printed: `Debug` shows only that it is there.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceToken(String);

impl DeviceToken {
    pub fn new(token: String) -> DeviceToken {
        DeviceToken(token)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceToken(<redacted>)")
    }
}

/// What the device knows, loaded for one command and saved back after it.
pub struct State {
    pub device: Device,
    pub engine: ClientEngine,
}

/// Everything about the device but its documents.
#[derive(Debug, Clone)]
pub struct Device {
    pub server: String,
    pub device_id: Uuid,
    pub token: DeviceToken,
    /// Unix seconds of the last sync that finished.
    pub last_sync: Option<u64>,
    /// Why the last sync attempt failed, cleared by the next one that finishes.
    pub last_sync_error: Option<String>,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("device", &self.device)
            .field("dataset", &self.engine.dataset())
            .field("epoch", &self.engine.epoch())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct SavedState {
    v: u32,
    server: String,
    #[serde(with = "uuid::serde::hyphenated")]
    device_id: Uuid,
    token: String,
    last_sync: Option<u64>,
    last_sync_error: Option<String>,
    engine: ByteBuf,
}

/// The state file at one path, locked for as long as this value lives.
pub struct StateFile {
    path: PathBuf,
    _lock: File,
}

impl StateFile {
    /// `$XDG_DATA_HOME/survey/state`, else `~/.local/share/survey/state`.
    pub fn default_path() -> Option<PathBuf> {
        let data_home = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|home| PathBuf::from(home).join(".local/share"))
            })?;
        Some(data_home.join("survey").join("state"))
    }

    /// Takes the lock beside `path`, creating its folder if needed.
    pub fn open(path: &Path) -> Result<StateFile> {
        let io = |action| {
            move |source| Error::StateIo {
                action,
                path: path.to_owned(),
                source,
            }
        };
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_folder(folder).map_err(io("create the folder of"))?;
        }
        let lock_path = sibling(path, ".lock");
        let lock = private_options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io("lock"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(Error::StateBusy(path.to_owned())),
            Err(TryLockError::Error(source)) => return Err(io("lock")(source)),
        }
        Ok(StateFile {
            path: path.to_owned(),
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        // A dangling symlink or an unreadable entry still "exists": never enroll over it.
        fs::symlink_metadata(&self.path).is_ok()
    }

    pub fn load(&self) -> Result<State> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotEnrolled(self.path.clone()));
            }
            Err(source) => {
                return Err(Error::StateIo {
                    action: "read",
                    path: self.path.clone(),
                    source,
                });
            }
        };
        decode(&bytes).map_err(|detail| Error::CorruptState {
            path: self.path.clone(),
            detail,
        })
    }

    /// Deletes the file (a device withdrawn with a wipe), durably.
    pub fn remove(&self) -> Result<()> {
        let io = |action| {
            let path = self.path.clone();
            move |source| Error::StateIo { action, path, source }
        };
        fs::remove_file(&self.path).map_err(io("delete"))?;
        self.sync_folder().map_err(io("flush the folder of"))
    }

    /// A rename or a removal is only durable once the folder entry is on disk.
    fn sync_folder(&self) -> std::io::Result<()> {
        match self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(folder) => File::open(folder)?.sync_all(),
            None => Ok(()),
        }
    }

    /// Replaces the file with `state`, atomically and durably.
    pub fn save(&self, state: &mut State) -> Result<()> {
        self.save_parts(&state.device, &mut state.engine)
    }

    /// [`StateFile::save`] from the parts, for callers that hold the engine borrowed mutably.
    pub fn save_parts(&self, device: &Device, engine: &mut ClientEngine) -> Result<()> {
        let bytes = encode(device, engine);
        let temp = sibling(&self.path, &format!(".tmp-{}", std::process::id()));
        let io = |action| {
            let path = self.path.clone();
            move |source| Error::StateIo { action, path, source }
        };
        let written = (|| {
            let mut file = private_options()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&temp)?;
            file.write_all(&bytes)?;
            file.sync_all()
        })();
        if let Err(source) = written {
            let _ = fs::remove_file(&temp);
            return Err(io("write")(source));
        }
        if let Err(source) = fs::rename(&temp, &self.path) {
            let _ = fs::remove_file(&temp);
            return Err(io("replace")(source));
        }
        self.sync_folder().map_err(io("flush the folder of"))
    }
}

fn encode(device: &Device, engine: &mut ClientEngine) -> Vec<u8> {
    let saved = SavedState {
        v: FORMAT_VERSION,
        server: device.server.clone(),
        device_id: device.device_id,
        token: device.token.expose().to_owned(),
        last_sync: device.last_sync,
        last_sync_error: device.last_sync_error.clone(),
        engine: ByteBuf::from(engine.save()),
    };
    let mut body = Vec::new();
    ciborium::ser::into_writer(&saved, &mut body).expect("writing CBOR to a Vec cannot fail");
    let mut out = Vec::with_capacity(MAGIC.len() + DIGEST_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&Sha256::digest(&body));
    out.extend_from_slice(&body);
    out
}

fn decode(bytes: &[u8]) -> std::result::Result<State, String> {
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or("it is not a survey state file")?;
    if rest.len() < DIGEST_LEN {
        return Err("it is cut short".into());
    }
    let (digest, body) = rest.split_at(DIGEST_LEN);
    if Sha256::digest(body).as_slice() != digest {
        return Err("its checksum does not match its content".into());
    }
    let saved: SavedState =
        ciborium::de::from_reader(body).map_err(|e| format!("its content cannot be read: {e}"))?;
    if saved.v != FORMAT_VERSION {
        return Err(format!(
            "it was written in format {}, this client reads format {FORMAT_VERSION}",
            saved.v
        ));
    }
    let engine = ClientEngine::load(&saved.engine).map_err(|e| e.to_string())?;
    Ok(State {
        device: Device {
            server: saved.server,
            device_id: saved.device_id,
            token: DeviceToken::new(saved.token),
            last_sync: saved.last_sync,
            last_sync_error: saved.last_sync_error,
        },
        engine,
    })
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

fn create_private_folder(folder: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> State {
        State {
            device: Device {
                server: "http://127.0.0.1:1".into(),
                device_id: Uuid::new_v4(),
                token: DeviceToken::new("secret-token-value".into()),
                last_sync: Some(1_700_000_000),
                last_sync_error: None,
            },
            engine: ClientEngine::new(Uuid::new_v4(), 3),
        }
    }

    #[test]
    fn saves_and_loads_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested/state");
        let file = StateFile::open(&path).expect("open");
        let mut state = sample();
        file.save(&mut state).expect("save");
        let loaded = file.load().expect("load");
        assert_eq!(loaded.device.server, state.device.server);
        assert_eq!(loaded.device.device_id, state.device.device_id);
        assert_eq!(loaded.device.token, state.device.token);
        assert_eq!(loaded.device.last_sync, state.device.last_sync);
        assert_eq!(loaded.engine.dataset(), state.engine.dataset());
        assert_eq!(loaded.engine.epoch(), 3);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = fs::read_dir(path.parent().expect("folder"))
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "temp files left behind");
    }

    #[test]
    fn any_flipped_byte_is_reported_as_damage() {
        let mut state = sample();
        let bytes = encode(&state.device, &mut state.engine);
        for i in [0, 9, bytes.len() / 2, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x40;
            assert!(decode(&damaged).is_err(), "byte {i} flipped went unnoticed");
        }
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(b"").is_err());
    }

    #[test]
    fn token_is_redacted_in_debug() {
        let state = sample();
        let shown = format!("{state:?} {:?}", state.device.token);
        assert!(!shown.contains("secret-token-value"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn a_second_command_on_the_same_file_is_told_to_wait() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state");
        let _first = StateFile::open(&path).expect("open");
        assert!(matches!(StateFile::open(&path), Err(Error::StateBusy(_))));
    }
}
