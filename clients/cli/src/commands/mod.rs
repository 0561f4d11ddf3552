//! One file per subcommand. Each loads the state file, does its work through the sync-core
//! engine, and saves the state back before it reports success.

mod collect;
mod enroll;
mod forms;
mod renew;
mod responses;
mod sites;
mod status;
mod sync;

use std::path::PathBuf;

use crate::cli::{Cli, Command, SiteCommand};
use crate::state::StateFile;
use crate::{Error, Result, loadtest};

pub fn run(cli: Cli) -> Result<()> {
    let Cli { state, command } = cli;
    // Opened (and locked) only by the commands that use it: a load test has no state file.
    let file = || StateFile::open(&state_path(state.clone())?);
    match command {
        Command::Enroll { server, code } => enroll::run(&file()?, &server, &code),
        Command::Renew { code } => renew::run(&file()?, &code),
        Command::Forms { form } => forms::run(&file()?, form.as_deref()),
        Command::Collect { form, answers } => collect::run(&file()?, &form, &answers),
        Command::Edit { response, answers } => responses::edit(&file()?, response, &answers),
        Command::Withdraw { response } => responses::withdraw(&file()?, response),
        Command::Responses => responses::list(&file()?),
        Command::Tally { site, metric, by } => sites::tally(&file()?, &site, &metric, by),
        Command::Site(SiteCommand::Add { code, name }) => sites::add(&file()?, &code, &name),
        Command::Site(SiteCommand::List) => sites::list(&file()?),
        Command::Sync => sync::run(&file()?),
        Command::Status { json } => status::run(&file()?, json),
        Command::Loadtest(args) => loadtest::run(&args),
    }
}

/// "" or "s", for counts in messages.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn state_path(given: Option<PathBuf>) -> Result<PathBuf> {
    given.or_else(StateFile::default_path).ok_or_else(|| {
        Error::Usage("neither --state nor $XDG_DATA_HOME nor $HOME is set: give --state PATH".into())
    })
}
