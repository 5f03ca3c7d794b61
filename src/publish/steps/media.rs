//! Uploading a media file: ask for an upload URL, send the bytes to the storage host (no
//! key, none after the deadline), mark it complete, wait until it is ready.

use std::time::Duration;

use super::{Failed, Steps};
use crate::api::Fault;
use crate::config::publish::MediaFile;
use crate::poll::DEADLINE_GRACE;
use crate::run::Events;

impl<E> Steps<'_, E>
where
    E: Events,
{
    /// Uploads one media file (ask for a URL, send the bytes, mark it complete, wait until
    /// it is ready); returns its media id.
    pub async fn media(&mut self, m: &MediaFile) -> Result<String, Failed> {
        let client = self.client;
        self.say(&format!("uploading {} ({}, {} bytes)", m.name, m.content_type, m.size));
        let mut slot = self.call("POST media/upload", true, |t| client.media_slot(m, t)).await?;
        let (mut errors, mut renewed) = (0u32, false);
        loop {
            // The bytes go to the storage host, not the API: no request budget, and the
            // whole time left (a large file takes a while). None after the deadline (an
            // upload URL answered in its grace).
            if self.now() >= self.cfg.timeout {
                return Err(Failed::Deadline(None));
            }
            let t = self.cfg.timeout - self.now() + DEADLINE_GRACE;
            self.doing.set("uploading the media");
            let r = {
                let upload = client.upload(&slot, m, t);
                tokio::pin!(upload);
                loop {
                    let beat = self.beat_at().saturating_sub(self.now());
                    tokio::select! {
                        r = &mut upload => break r,
                        s = self.signals.recv() => return Err(Failed::SignalOut(s)),
                        () = tokio::time::sleep(beat) => self.beat(),
                    }
                }
            };
            match r {
                Ok(()) => break,
                Err(Fault::Transient { reason, after, .. }) => {
                    errors += 1;
                    if errors >= self.cfg.max_errors {
                        return Err(Failed::Fault(Fault::transient(reason)));
                    }
                    // Never sooner than the storage host asked (a 503's Retry-After).
                    let wait = (Duration::from_secs(1) * errors).max(after.unwrap_or_default());
                    self.say_retry(&format!("the upload failed ({reason})"), wait);
                    self.back_off(wait).await?;
                }
                Err(Fault::Fatal { status: Some(_), .. }) if !renewed => {
                    // An upload URL can expire: ask for a new one, once.
                    renewed = true;
                    self.say("the upload host refused the file; asking for a new upload URL");
                    slot = self.call("POST media/upload", true, |t| client.media_slot(m, t)).await?;
                }
                Err(f) => return Err(Failed::Fault(f)),
            }
        }
        let id = slot.media_id.clone();
        self.doing.set("publishing");
        self.call("POST media/complete", true, |t| client.media_complete(&id, t)).await?;
        self.doing.set("waiting for the media to be processed");
        loop {
            let (state, why) = self.call("GET media", true, |t| client.media_state(&id, t)).await?;
            match state.as_str() {
                "ready" | "complete" | "completed" | "processed" | "uploaded" => {
                    self.doing.set("publishing");
                    self.say(&format!("{} is ready (media {id})", m.name));
                    return Ok(id);
                }
                "failed" | "error" => {
                    let why = why.unwrap_or_else(|| "no reason given".into());
                    return Err(Failed::Fault(Fault::Fatal {
                        status: None,
                        message: format!("processing failed: {why}"),
                    }));
                }
                _ => self.back_off(self.cfg.poll_interval.min(Duration::from_secs(2))).await?,
            }
        }
    }
}
