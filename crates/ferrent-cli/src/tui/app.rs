//! The TUI's state: what the daemon last reported, the selection, the detail pane and
//! the input mode. Pure: keys come in through [`App::handle_key`] and give back the
//! [`Action`] the I/O loop should carry out; the daemon's answers come in through
//! [`App::apply`], [`App::unreachable`] and [`App::finished`].

use super::history::{Sample, SpeedHistory};
use super::prompt::{parse_limits, LineInput};
use ferrent_daemon::model::{Limits, SessionView, TorrentDetails, TorrentSummary};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::time::Instant;

/// Rows that PageUp and PageDown scroll the detail pane by.
const PAGE: usize = 10;

/// Lines of the Info pane before its notices, with room for a wrapped magnet link.
const INFO_ROWS: usize = 12;

/// What one refresh fetched from the daemon.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Every torrent.
    pub torrents: Vec<TorrentSummary>,
    /// Session totals.
    pub session: SessionView,
    /// The torrent that was selected when the refresh started, in full.
    pub details: Option<TorrentDetails>,
    /// When it was taken (for the speed graph).
    pub taken: Instant,
    /// The wall clock then, seconds since the Unix epoch (for "… ago").
    pub unix_now: u64,
}

/// The tabs of the detail pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// Summary, directory, limits, notices.
    Info,
    /// Files with progress and priority.
    Files,
    /// Connected peers.
    Peers,
    /// Trackers and what they said.
    Trackers,
}

impl Pane {
    /// Every pane, in tab order.
    pub const ALL: [Pane; 4] = [Pane::Info, Pane::Files, Pane::Peers, Pane::Trackers];

    /// Its tab title.
    pub fn title(self) -> &'static str {
        match self {
            Pane::Info => "Info",
            Pane::Files => "Files",
            Pane::Peers => "Peers",
            Pane::Trackers => "Trackers",
        }
    }

    /// Its position in [`Pane::ALL`].
    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    /// The pane `step` tabs away, wrapping around.
    fn step(self, step: isize) -> Pane {
        let len = Pane::ALL.len() as isize;
        let index = (self.index() as isize + step).rem_euclid(len);
        Pane::ALL.get(index as usize).copied().unwrap_or(Pane::Info)
    }
}

/// Whose rate caps a limits prompt sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One torrent.
    Torrent {
        /// Its id.
        id: String,
        /// Its name, for messages.
        name: String,
    },
    /// The whole session.
    Session,
}

/// What a prompt asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// A magnet link, URL or .torrent path to add.
    Add,
    /// `DOWN UP` rate caps.
    Limits(Target),
}

/// A question with a line of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// What the answer is for.
    pub purpose: Purpose,
    /// The answer so far.
    pub input: LineInput,
}

impl Prompt {
    /// The question.
    pub fn label(&self) -> String {
        match &self.purpose {
            Purpose::Add => "Add a magnet link, http(s) URL or .torrent path".to_string(),
            Purpose::Limits(Target::Torrent { name, .. }) => format!("Limits for {name}: DOWN UP"),
            Purpose::Limits(Target::Session) => "Session limits: DOWN UP".to_string(),
        }
    }

    /// How to answer.
    pub fn hint(&self) -> &'static str {
        match &self.purpose {
            Purpose::Add => "Enter: add  Esc: cancel",
            Purpose::Limits(_) => "K/M/G per second, 0 = none, - = keep  Enter: set  Esc: cancel",
        }
    }
}

/// A torrent to remove once the user confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// Its id.
    pub id: String,
    /// Its name, for the question and messages.
    pub name: String,
    /// Delete its downloaded data too.
    pub delete_data: bool,
}

/// What the screen is waiting for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Browsing: keys are commands.
    Normal,
    /// The key help is shown; any key closes it.
    Help,
    /// A line of input is being typed.
    Prompt(Prompt),
    /// A removal waits for `y`.
    Confirm(Removal),
}

/// Work for the I/O loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fetch a new snapshot now (the selection changed).
    Refresh,
    /// Ask the daemon to change something.
    Request(Request),
}

/// A change to ask the daemon for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Add a torrent from a magnet link, URL or .torrent path.
    Add(String),
    /// Pause the torrent with this id.
    Pause(String),
    /// Resume the torrent with this id.
    Resume(String),
    /// Remove a torrent.
    Remove(Removal),
    /// Set rate caps.
    SetLimits(Target, Limits),
}

/// How a [`Request`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It worked.
    Done {
        /// What to tell the user.
        message: String,
        /// A torrent it added, to select.
        added: Option<String>,
    },
    /// It failed; why.
    Failed(String),
}

/// A message in the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Something happened as asked.
    Info(String),
    /// Something went wrong.
    Error(String),
}

/// The whole state of the screen.
#[derive(Debug, Clone)]
pub struct App {
    torrents: Vec<TorrentSummary>,
    session: Option<SessionView>,
    details: Option<TorrentDetails>,
    /// The selected torrent's id.
    selected: Option<String>,
    /// A torrent just added, to select once it is listed.
    pending: Option<String>,
    pane: Pane,
    scroll: usize,
    mode: Mode,
    history: SpeedHistory,
    notice: Option<Notice>,
    unreachable: Option<String>,
    unix_now: u64,
    quit: bool,
}

impl Default for App {
    fn default() -> Self {
        Self::new()
    }
}

impl App {
    /// A screen with nothing from the daemon yet.
    pub fn new() -> Self {
        Self {
            torrents: Vec::new(),
            session: None,
            details: None,
            selected: None,
            pending: None,
            pane: Pane::Info,
            scroll: 0,
            mode: Mode::Normal,
            history: SpeedHistory::default(),
            notice: None,
            unreachable: None,
            unix_now: 0,
            quit: false,
        }
    }

    /// The torrents, oldest first.
    pub fn torrents(&self) -> &[TorrentSummary] {
        &self.torrents
    }

    /// Session totals, once the daemon answered.
    pub fn session(&self) -> Option<&SessionView> {
        self.session.as_ref()
    }

    /// The position of the selected torrent in [`App::torrents`].
    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected.as_deref()?;
        self.torrents.iter().position(|t| t.id == id)
    }

    /// The selected torrent.
    pub fn selected(&self) -> Option<&TorrentSummary> {
        self.selected_index().and_then(|i| self.torrents.get(i))
    }

    /// The selected torrent's id.
    pub fn selected_id(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    /// The selected torrent in full, once fetched.
    pub fn details(&self) -> Option<&TorrentDetails> {
        self.details.as_ref().filter(|d| Some(d.summary.id.as_str()) == self.selected.as_deref())
    }

    /// The detail pane shown.
    pub fn pane(&self) -> Pane {
        self.pane
    }

    /// Rows of the detail pane scrolled past.
    pub fn scroll(&self) -> usize {
        self.scroll
    }

    /// The input mode.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// Recent session rates.
    pub fn history(&self) -> &SpeedHistory {
        &self.history
    }

    /// The status line's message.
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    /// Why the last refresh failed, while the daemon cannot be reached.
    pub fn unreachable_reason(&self) -> Option<&str> {
        self.unreachable.as_deref()
    }

    /// The wall clock at the last snapshot, seconds since the Unix epoch.
    pub fn unix_now(&self) -> u64 {
        self.unix_now
    }

    /// The user asked to quit.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Takes in a new snapshot, keeping the selection on the same torrent (or on the same
    /// row when that torrent went away), or moving it to a torrent just added.
    pub fn apply(&mut self, snapshot: Snapshot) {
        let old_index = self.selected_index();
        let mut torrents = snapshot.torrents;
        torrents.sort_by(|a, b| (a.added_at, &a.name, &a.id).cmp(&(b.added_at, &b.name, &b.id)));
        self.torrents = torrents;
        let listed = |id: &Option<String>| {
            id.as_deref().is_some_and(|id| self.torrents.iter().any(|t| t.id == id))
        };
        let selected = if listed(&self.pending) {
            self.pending.take()
        } else if listed(&self.selected) {
            self.selected.clone()
        } else {
            let index = old_index.unwrap_or(0).min(self.torrents.len().saturating_sub(1));
            self.torrents.get(index).map(|t| t.id.clone())
        };
        self.select(selected);
        self.history.push(Sample {
            at: snapshot.taken,
            down: snapshot.session.down_rate,
            up: snapshot.session.up_rate,
        });
        self.session = Some(snapshot.session);
        self.details = snapshot.details;
        self.unix_now = snapshot.unix_now;
        self.unreachable = None;
    }

    /// A refresh failed: the data shown is stale.
    pub fn unreachable(&mut self, reason: String) {
        self.unreachable = Some(reason);
    }

    /// A request ended.
    pub fn finished(&mut self, outcome: Outcome) {
        self.notice = Some(match outcome {
            Outcome::Done { message, added } => {
                if added.is_some() {
                    self.pending = added;
                }
                Notice::Info(message)
            }
            Outcome::Failed(message) => Notice::Error(message),
        });
    }

    /// Handles a key press; returns what the I/O loop should do about it.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return None;
        }
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => self.normal_key(key),
            Mode::Help => None,
            Mode::Prompt(prompt) => self.prompt_key(prompt, key),
            Mode::Confirm(removal) => self.confirm_key(removal, key),
        }
    }

    fn normal_key(&mut self, key: KeyEvent) -> Option<Action> {
        let last = self.torrents.len().saturating_sub(1);
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') | KeyCode::F(1) => self.mode = Mode::Help,
            KeyCode::Esc => self.notice = None,
            KeyCode::Up | KeyCode::Char('k') => return self.move_to(|i| i.saturating_sub(1)),
            KeyCode::Down | KeyCode::Char('j') => return self.move_to(|i| (i + 1).min(last)),
            KeyCode::Home | KeyCode::Char('g') => return self.move_to(|_| 0),
            KeyCode::End | KeyCode::Char('G') => return self.move_to(|_| last),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(PAGE),
            KeyCode::PageDown => {
                self.scroll =
                    self.scroll.saturating_add(PAGE).min(self.pane_rows().saturating_sub(1));
            }
            KeyCode::Tab | KeyCode::Right => self.show_pane(self.pane.step(1)),
            KeyCode::BackTab | KeyCode::Left => self.show_pane(self.pane.step(-1)),
            KeyCode::Char(c @ '1'..='4') => {
                let index = c as usize - '1' as usize;
                self.show_pane(Pane::ALL.get(index).copied().unwrap_or(Pane::Info));
            }
            KeyCode::Char('a') => self.ask(Purpose::Add, ""),
            KeyCode::Char('p') => return self.on_selected(|t| Request::Pause(t.id.clone())),
            KeyCode::Char('r') => return self.on_selected(|t| Request::Resume(t.id.clone())),
            KeyCode::Char(c @ ('d' | 'D')) => {
                let removal = self.selected().map(|t| Removal {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    delete_data: c == 'D',
                });
                match removal {
                    Some(removal) => self.mode = Mode::Confirm(removal),
                    None => self.nothing_selected(),
                }
            }
            KeyCode::Char('l') => match self.selected() {
                Some(t) => {
                    let current = format!(
                        "{} {}",
                        super::format::rate_input(t.download_limit),
                        super::format::rate_input(t.upload_limit)
                    );
                    let target = Target::Torrent { id: t.id.clone(), name: t.name.clone() };
                    self.ask(Purpose::Limits(target), &current);
                }
                None => self.ask_session_limits(),
            },
            KeyCode::Char('L') => self.ask_session_limits(),
            _ => {}
        }
        None
    }

    fn prompt_key(&mut self, mut prompt: Prompt, key: KeyEvent) -> Option<Action> {
        match key.code {
            KeyCode::Esc => None,
            KeyCode::Enter => {
                let text = prompt.input.text().trim().to_string();
                match prompt.purpose {
                    Purpose::Add if text.is_empty() => None,
                    Purpose::Add => {
                        self.notice = Some(Notice::Info(format!("adding {text}")));
                        Some(Action::Request(Request::Add(text)))
                    }
                    Purpose::Limits(target) => match parse_limits(&text) {
                        Ok(limits) => Some(Action::Request(Request::SetLimits(target, limits))),
                        Err(reason) => {
                            self.notice = Some(Notice::Error(reason));
                            self.mode = Mode::Prompt(Prompt {
                                purpose: Purpose::Limits(target),
                                input: prompt.input,
                            });
                            None
                        }
                    },
                }
            }
            _ => {
                prompt.input.handle(key);
                self.mode = Mode::Prompt(prompt);
                None
            }
        }
    }

    fn confirm_key(&mut self, removal: Removal, key: KeyEvent) -> Option<Action> {
        match key.code {
            KeyCode::Char('y' | 'Y') => Some(Action::Request(Request::Remove(removal))),
            _ => {
                self.notice = Some(Notice::Info(format!("kept {}", removal.name)));
                None
            }
        }
    }

    /// Moves the selection to the row `to` computes from the current one.
    fn move_to(&mut self, to: impl FnOnce(usize) -> usize) -> Option<Action> {
        let index = to(self.selected_index().unwrap_or(0));
        let id = self.torrents.get(index).map(|t| t.id.clone());
        if id.is_none() || id == self.selected {
            return None;
        }
        self.pending = None;
        self.select(id);
        Some(Action::Refresh)
    }

    fn select(&mut self, id: Option<String>) {
        if id != self.selected {
            self.selected = id;
            self.scroll = 0;
        }
    }

    /// Rows in the detail pane shown (Info: its fields, a few more for wrapped lines).
    fn pane_rows(&self) -> usize {
        let Some(details) = self.details() else { return 0 };
        match self.pane {
            Pane::Info => INFO_ROWS + details.notices.len(),
            Pane::Files => details.files.len(),
            Pane::Peers => details.peers.len(),
            Pane::Trackers => details.trackers.len(),
        }
    }

    fn show_pane(&mut self, pane: Pane) {
        if pane != self.pane {
            self.pane = pane;
            self.scroll = 0;
        }
    }

    fn on_selected(&mut self, request: impl FnOnce(&TorrentSummary) -> Request) -> Option<Action> {
        let request = self.selected().map(request);
        if request.is_none() {
            self.nothing_selected();
        }
        request.map(Action::Request)
    }

    fn nothing_selected(&mut self) {
        self.notice = Some(Notice::Error("no torrent selected".to_string()));
    }

    fn ask(&mut self, purpose: Purpose, initial: &str) {
        self.mode = Mode::Prompt(Prompt { purpose, input: LineInput::new(initial) });
    }

    fn ask_session_limits(&mut self) {
        let limits = self.session.as_ref().map(|s| s.limits).unwrap_or_default();
        let current = format!(
            "{} {}",
            super::format::rate_input(limits.download.unwrap_or(0)),
            super::format::rate_input(limits.upload.unwrap_or(0))
        );
        self.ask(Purpose::Limits(Target::Session), &current);
    }
}
