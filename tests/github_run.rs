//! The run loop end to end against the GitHub forge (issue 7, "H6"): the real corpus
//! (`../shared/data/feedstocks`) replayed into the `emulate` GitHub API server as
//! `conda-forge/<name>-feedstock`, `../shared/data/pinning` as the pinning, and
//! `cascade::run` driving the python314 migration through `GitHubForge` (REST and the
//! Git Data API: the emulator serves no git protocol and no GraphQL) while the test plays
//! the maintainers over the API as `maint`.
//!
//! A local-forge run of the same corpus, pinning and clock (the world of
//! `tests/run_e2e.rs`) is the reference: each GitHub run must open the PRs it opens, on
//! the same branches. Each test skips with a message when the emulator is not installed
//! or `../shared/data` is absent.

mod common;
#[path = "github_run/python314.rs"]
mod python314;
#[path = "github_run/world.rs"]
mod world;

use std::collections::{BTreeMap, BTreeSet};

use cascade::forge::github::{GitHubForge, Limits};
use cascade::forge::{Forge, PrState};
use cascade::graph::WorkOutcome;
use cascade::run;
use serde_json::json;

use common::emulator::MAINT_TOKEN;
use python314::plan_parents;
use world::{MIGRATION, ORG, Twin, World, assert_clean, migration, open_limits, opened};

#[test]
fn python314_waves_open_on_github_exactly_as_on_the_local_forge() {
    let Some(mut world) = World::new() else {
        return;
    };
    let Some(mut twin) = Twin::new() else {
        return;
    };
    let forge = world.forge("forge", open_limits());

    // Round 1: the ramp's first two PRs, as on the local forge, on the same branches.
    let first = world.run(&forge);
    eprintln!(
        "first run (137 checkouts over the API, graph build, 2 PRs): {} ms",
        first.wall_ms
    );
    assert_clean(&first);
    let m = migration(&first);
    assert_eq!(m.limit, 2, "{m:#?}");
    assert_eq!(m.opened.len(), 2, "{m:#?}");
    assert_eq!(first.checkouts, world.corpus.commits.len());
    assert_eq!(
        opened(&first),
        opened(&twin.run()),
        "first wave: GitHub vs local forge"
    );
    let wave = world.assert_open_prs_tracked();
    assert_eq!(
        wave.keys().collect::<Vec<_>>(),
        opened(&first).keys().collect::<Vec<_>>()
    );
    for (feedstock, branch) in &opened(&first) {
        world.assert_python314_pr(feedstock, &wave[feedstock], branch);
    }

    // Round 2, no maintainer action: no second PR where one is open; anything new is
    // what the local forge opens too.
    let second = world.run(&forge);
    assert_clean(&second);
    assert_eq!(second.refresh.open, wave.len(), "{:?}", second.refresh);
    assert_eq!(
        opened(&second),
        opened(&twin.run()),
        "second run: GitHub vs local forge"
    );
    for feedstock in opened(&second).keys() {
        assert!(!wave.contains_key(feedstock), "{feedstock}: opened twice");
    }
    let open = world.assert_open_prs_tracked();
    assert_eq!(open.len(), wave.len() + opened(&second).len());
    for (feedstock, pr) in &wave {
        assert_eq!(open[feedstock]["number"], pr["number"], "{feedstock}");
    }

    // Maintainers merge everything; the next run records the merges, deletes the
    // branches, and opens the children's wave.
    for (feedstock, pr) in &open {
        world.merge(feedstock, pr["number"].as_u64().unwrap());
    }
    twin.merge_all();
    let third = world.run(&forge);
    assert_clean(&third);
    assert_eq!(third.refresh.merged, open.len(), "{:?}", third.refresh);
    let next = opened(&third);
    assert_eq!(
        next,
        opened(&twin.run()),
        "after the merges: GitHub vs local forge"
    );
    let work = world.store().work_for(MIGRATION).unwrap();
    for (feedstock, pr) in &open {
        let number = pr["number"].as_u64().unwrap();
        let record = work
            .iter()
            .find(|w| {
                w.pr.as_ref()
                    .is_some_and(|p| p.number == number && &p.feedstock == feedstock)
            })
            .unwrap_or_else(|| panic!("{feedstock}#{number} not recorded"));
        assert_eq!(record.outcome, WorkOutcome::Merged, "{record:?}");
        let branch = pr["head"]["ref"].as_str().unwrap();
        assert!(
            !world.fork_has_branch(feedstock, branch),
            "{feedstock}: {branch} kept"
        );
    }
    assert!(!next.is_empty(), "no next wave: {:#?}", migration(&third));
    let merged: BTreeSet<&String> = open.keys().collect();
    let children = next
        .keys()
        .filter(|f| plan_parents(&world, f).iter().any(|p| merged.contains(p)))
        .count();
    assert!(children > 0, "none of {next:?} waits on {merged:?}");
    let now_open = world.assert_open_prs_tracked();
    assert_eq!(
        now_open.keys().collect::<Vec<_>>(),
        next.keys().collect::<Vec<_>>()
    );
    for (feedstock, branch) in &next {
        world.assert_python314_pr(feedstock, &now_open[feedstock], branch);
    }

    // Runs with no maintainer action until one opens nothing (the ramp's later steps
    // open what else is ready, as on the local forge); that run changed nothing: a
    // refresh and a sync, no content-creating request.
    for _ in 0..5 {
        let reference = opened(&twin.run());
        let before = forge.stats();
        let summary = world.run(&forge);
        let after = forge.stats();
        assert_clean(&summary);
        assert_eq!(opened(&summary), reference, "GitHub vs local forge");
        let open = world.assert_open_prs_tracked();
        if reference.is_empty() {
            assert_eq!(
                after.creates, before.creates,
                "an unchanged run creates nothing"
            );
            eprintln!(
                "unchanged run with {} open PRs and {} feedstocks: {} requests ({} GraphQL, \
                 {} not modified)",
                open.len(),
                world.corpus.commits.len(),
                after.requests - before.requests,
                after.graphql - before.graphql,
                after.not_modified - before.not_modified,
            );
            assert_refresh_answers_every_pr(&world, &forge);
            return;
        }
    }
    panic!("every run opened more PRs");
}

/// `Forge::prs` on every tracked PR answers each, open, in order; prints its cost (the
/// emulator has no GraphQL, so after one refused GraphQL request the forge asks over
/// REST PR by PR — the batched budget is proven against recorded bodies in
/// `tests/github_wiremock.rs`).
fn assert_refresh_answers_every_pr(world: &World, forge: &GitHubForge) {
    let refs: Vec<(String, u64)> = world.tracked().into_iter().collect();
    let before = forge.stats();
    let answers = forge.prs(&refs);
    let after = forge.stats();
    assert_eq!(answers.len(), refs.len());
    for ((feedstock, number), answer) in refs.iter().zip(answers) {
        let pr = answer.unwrap_or_else(|e| panic!("{feedstock}#{number}: {e}"));
        assert_eq!((&pr.feedstock, pr.number), (feedstock, *number));
        assert_eq!(pr.state, PrState::Open, "{pr:?}");
    }
    eprintln!(
        "refreshing {} open PRs: {} requests ({} GraphQL, {} creating)",
        refs.len(),
        after.requests - before.requests,
        after.graphql - before.graphql,
        after.creates - before.creates,
    );
    assert_eq!(after.creates, before.creates, "a refresh creates nothing");
}

#[test]
fn a_bot_rerun_label_closes_the_pr_through_the_run_loop_and_a_fresh_one_follows() {
    let Some(mut world) = World::new() else {
        return;
    };
    let forge = world.forge("forge", open_limits());
    let first = world.run(&forge);
    assert_clean(&first);
    let (feedstock, branch) = opened(&first).into_iter().next().unwrap();
    let open = world.assert_open_prs_tracked();
    let number = open[&feedstock]["number"].as_u64().unwrap();

    let labels = format!("/repos/{ORG}/{feedstock}-feedstock/issues/{number}/labels");
    let body = json!({"labels": [run::BOT_RERUN_LABEL]});
    let (status, answer) = world
        .emulator
        .request(MAINT_TOKEN, "POST", &labels, Some(body));
    assert_eq!(status, 200, "POST {labels}: {answer}");

    let second = world.run(&forge);
    assert_clean(&second);
    assert_eq!(second.refresh.reruns, 1, "{:?}", second.refresh);
    let comments = world.get(&format!(
        "/repos/{ORG}/{feedstock}-feedstock/issues/{number}/comments"
    ));
    let said: Vec<&str> = comments
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["body"].as_str())
        .collect();
    assert!(
        said.iter()
            .any(|c| c.starts_with("Due to the `bot-rerun` label")),
        "{said:?}"
    );
    let old = world.get(&format!(
        "/repos/{ORG}/{feedstock}-feedstock/pulls/{number}"
    ));
    assert_eq!(old["state"], "closed", "{old:#}");
    assert!(old["merged_at"].is_null(), "{old:#}");
    assert!(!world.fork_has_branch(&feedstock, &branch), "{branch} kept");

    let mut summary = second;
    if !opened(&summary).contains_key(&feedstock) {
        summary = world.run(&forge);
        assert_clean(&summary);
    }
    let fresh_branch = opened(&summary)
        .remove(&feedstock)
        .unwrap_or_else(|| panic!("{feedstock}: no fresh PR in {:#?}", migration(&summary)));
    assert_ne!(fresh_branch, branch, "the rerun's uid names a new branch");
    let open = world.assert_open_prs_tracked();
    let fresh = &open[&feedstock];
    assert_ne!(fresh["number"].as_u64(), Some(number));
    world.assert_python314_pr(&feedstock, fresh, &fresh_branch);
    let work = world.store().work_on(&feedstock).unwrap();
    let closed = work
        .iter()
        .find(|w| w.pr.as_ref().is_some_and(|p| p.number == number));
    assert_eq!(
        closed.map(|w| w.outcome),
        Some(WorkOutcome::Closed),
        "{work:#?}"
    );
    let uids: BTreeSet<&str> = work.iter().map(|w| w.uid_key.as_str()).collect();
    assert_eq!(uids.len(), 2, "{work:#?}");
}

/// A run whose hourly budget of content-creating requests runs out after `creates` of
/// them, part-way through the first wave, stops cleanly: nothing recorded as failed, no
/// PR opened that is not tracked. A forge with a fresh budget (a new state directory: the
/// hourly ledger lives in its `github.sqlite`) resumes, and the PRs then open are the
/// uninterrupted local-forge sequence cut at some point past the first wave — none
/// skipped, none twice, no orphan.
///
/// A first-wave PR currently costs 7 creating requests (fork, the base commit's tree and
/// commit replayed into the fork, tree, commit, ref, pull): 2 cuts inside the first PR's
/// fork set-up, 10 inside the second PR's push, 13 between the second PR's push and its
/// opening. Whatever the costs become, each is a cut before the wave's 2nd PR opens.
fn rate_limit_cuts_the_first_wave_after(creates: u32) {
    let Some(mut world) = World::new() else {
        return;
    };
    let Some(mut twin) = Twin::new() else {
        return;
    };
    let limited = world.forge(
        "forge-limited",
        Limits {
            creates_per_hour: creates,
            ..open_limits()
        },
    );
    let cut = world.run(&limited);
    let stopped = cut
        .stopped
        .as_ref()
        .unwrap_or_else(|| panic!("not stopped: {cut:#?}"));
    assert!(stopped.reason.contains("per hour"), "{stopped:?}");
    assert!(stopped.resets_at.is_some(), "{stopped:?}");
    assert_eq!(limited.stats().creates, u64::from(creates));
    let runs = world.store().runs().unwrap();
    let recorded = runs.last().unwrap();
    assert_eq!(Some(recorded.id), cut.run_id);
    assert!(
        recorded.finished_at.is_some(),
        "a stopped run is recorded finished"
    );
    let m = migration(&cut);
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    assert!(m.opened.len() < 2, "{m:#?}");
    for attempt in world.store().attempts_for(MIGRATION).unwrap() {
        assert_eq!(attempt.last_error, None, "{attempt:?}");
    }
    let partial = world.assert_open_prs_tracked();
    assert_eq!(partial.len(), m.opened.len());

    let forge = world.forge("forge", open_limits());
    let resumed = world.run(&forge);
    assert_clean(&resumed);
    let mut all = opened(&cut);
    all.extend(opened(&resumed));
    assert_eq!(
        all.len(),
        m.opened.len() + opened(&resumed).len(),
        "opened twice"
    );

    // The uninterrupted sequence: the local forge's first two runs, in opening order.
    let sequence: Vec<(String, String)> = [twin.run(), twin.run()]
        .iter()
        .flat_map(|summary| migration(summary).opened.clone())
        .map(|pr| (pr.feedstock, pr.branch))
        .collect();
    let prefix: BTreeMap<String, String> = sequence.iter().take(all.len()).cloned().collect();
    assert_eq!(
        all, prefix,
        "cut and resumed vs the uninterrupted {sequence:?}"
    );
    assert!(all.len() >= 2, "the first wave is complete: {all:?}");
    let open = world.assert_open_prs_tracked();
    assert_eq!(
        open.keys().collect::<Vec<_>>(),
        all.keys().collect::<Vec<_>>()
    );
    for (feedstock, branch) in &all {
        world.assert_python314_pr(feedstock, &open[feedstock], branch);
    }
    for attempt in world.store().attempts_for(MIGRATION).unwrap() {
        assert_eq!(attempt.last_error, None, "{attempt:?}");
    }
}

#[test]
fn a_budget_spent_in_the_first_prs_fork_stops_the_run_and_a_fresh_forge_finishes_the_wave() {
    rate_limit_cuts_the_first_wave_after(2);
}

#[test]
fn a_budget_spent_in_the_second_prs_push_stops_the_run_and_a_fresh_forge_finishes_the_wave() {
    rate_limit_cuts_the_first_wave_after(10);
}

#[test]
fn a_budget_spent_between_push_and_pr_stops_the_run_and_a_fresh_forge_opens_no_duplicate() {
    rate_limit_cuts_the_first_wave_after(13);
}

/// `cascade.toml` for the CLI runs: the emulator as GitHub, the REST transport, and an
/// hourly budget of `creates_per_hour` content-creating requests.
fn cli_config(world: &World, creates_per_hour: u32) -> std::path::PathBuf {
    let path = world.dir.path().join("cascade.toml");
    let text = format!(
        "forge = \"github\"\n\n[github]\napi_url = \"{}\"\norg = \"{ORG}\"\nbot_user = \"{}\"\n\
         transport = \"api\"\n\n[github.limits]\ncreate_spacing_ms = 0\ncreates_per_hour = {creates_per_hour}\n",
        world.emulator.url(),
        world::BOT,
    );
    fs_err::write(&path, text).unwrap();
    path
}

/// `cascade run` from the command line against the emulator; (exit code, JSON summary,
/// everything printed).
fn cli_run(world: &World, config: &std::path::Path) -> (i32, serde_json::Value, String) {
    let pinning = common::shared_data("pinning").unwrap();
    let output = assert_cmd::Command::cargo_bin("cascade")
        .unwrap()
        .args(["run", "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(world.dir.path().join("cli"))
        .arg("--pinning")
        .arg(&pinning)
        .args(["--migrator", MIGRATION, "--no-versions", "--json"])
        .env("CASCADE_GITHUB_TOKEN", "bot_token")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let printed = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let summary = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {printed}"));
    (output.status.code().unwrap_or(-1), summary, printed)
}

#[test]
fn cascade_run_on_github_exits_3_when_the_budget_is_spent_and_the_next_run_opens_the_wave_once() {
    let Some(world) = World::new() else { return };
    let (code, summary, printed) = cli_run(&world, &cli_config(&world, 2));
    assert_eq!(code, 3, "{printed}");
    assert!(
        summary["stopped"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("per hour")),
        "{summary:#}"
    );
    assert!(
        !printed.contains("bot_token"),
        "the token was printed: {printed}"
    );

    let (code, summary, printed) = cli_run(&world, &cli_config(&world, 500));
    assert_eq!(code, 0, "{printed}");
    assert!(summary["stopped"].is_null(), "{summary:#}");
    let opened: BTreeSet<String> = summary["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["opened"].as_array().unwrap().iter())
        .map(|pr| pr["feedstock"].as_str().unwrap().to_owned())
        .collect();
    assert!(!opened.is_empty(), "{summary:#}");
    let on_github: BTreeSet<String> = world.single_open_prs().into_keys().collect();
    assert_eq!(on_github, opened);

    // Once more: nothing new, nothing twice.
    let (code, _, printed) = cli_run(&world, &cli_config(&world, 500));
    assert_eq!(code, 0, "{printed}");
    let again: BTreeSet<String> = world.single_open_prs().into_keys().collect();
    assert!(
        again.is_superset(&opened),
        "{again:?} lost some of {opened:?}"
    );
}
