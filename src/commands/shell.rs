//! Shell habits: completion scripts and the man page, both generated from the clap
//! definitions in `cli`, so they list exactly the flags and subcommands that exist.

use crate::cli::Cli;
use clap::CommandFactory;
use std::io::Write;

/// `opsdeck completions SHELL`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "opsdeck", out);
}

/// `opsdeck man`: one page covering every subcommand.
pub fn man(out: &mut dyn Write) -> std::io::Result<()> {
    let cmd = Cli::command();
    let page = clap_mangen::Man::new(cmd.clone());
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    page.render_subcommands_section(out)?;
    // Each subcommand's own options, as a subsection of its own.
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name().to_string();
        writeln!(out, ".SH \"OPSDECK {}\"", name.to_uppercase())?;
        let sub_page = clap_mangen::Man::new(sub.clone().bin_name(format!("opsdeck {name}")));
        let mut roff = Vec::new();
        sub_page.render_synopsis_section(&mut roff)?;
        sub_page.render_description_section(&mut roff)?;
        sub_page.render_options_section(&mut roff)?;
        out.write_all(demoted(&String::from_utf8_lossy(&roff)).as_bytes())?;
    }
    page.render_extra_section(out)?;
    page.render_version_section(out)?;
    page.render_authors_section(out)
}

/// A subcommand's roff inside the page: its section headings become subsection headings,
/// and the string definitions every render repeats are left out.
fn demoted(roff: &str) -> String {
    roff.lines()
        .filter(|l| !l.starts_with(".ie \\n(.g") && !l.starts_with(".el .ds Aq"))
        .map(|l| match l.strip_prefix(".SH ") {
            Some(title) => format!(".SS {title}\n"),
            None => format!("{l}\n"),
        })
        .collect()
}
