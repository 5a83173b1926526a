//! The fault injector of the rate-limit tests: a real [`LocalForge`] behind a rate limit
//! that runs out at a chosen call.

use std::cell::{Cell, RefCell};
use std::path::Path;

use cascade::forge::local::LocalForge;
use cascade::forge::{CommitSpec, FeedstockRepo, Forge, ForgeError, NewPullRequest, PullRequest};

/// When the test's rate limit refills.
pub const RESETS_AT: i64 = 1_780_003_600;

/// Which forge call [`Limited`] starts refusing (it keeps refusing: a spent limit stays
/// spent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Never.
    Never,
    /// The n-th content-creating call (push_branch, open_pr, update_pr, comment,
    /// close_pr, delete_branch), from 1.
    Create(usize),
    /// The n-th `prs` call, from 1.
    Prs(usize),
    /// The n-th `sync_checkout`, from 1.
    Sync(usize),
    /// `list_feedstocks`.
    Listing,
}

/// A real [`LocalForge`] behind a rate limit that runs out where [`Fault`] says, counting
/// what the run asks.
pub struct Limited<'a> {
    inner: &'a LocalForge,
    fault: Fault,
    creates: Cell<usize>,
    syncs: Cell<usize>,
    /// The refs of every `prs` call, in order.
    pub prs_calls: RefCell<Vec<Vec<(String, u64)>>>,
    /// `pr` calls (the run must never make one).
    pub pr_calls: Cell<usize>,
    /// Every content-creating call that went through: (method, feedstock).
    pub created: RefCell<Vec<(&'static str, String)>>,
    /// Set once a call was refused.
    tripped: Cell<bool>,
    /// Calls made after the refusal (there must be none).
    pub after_trip: RefCell<Vec<&'static str>>,
}

impl<'a> Limited<'a> {
    /// Wraps `inner`; `fault` says where the limit runs out.
    pub fn new(inner: &'a LocalForge, fault: Fault) -> Self {
        Limited {
            inner,
            fault,
            creates: Cell::new(0),
            syncs: Cell::new(0),
            prs_calls: RefCell::new(Vec::new()),
            pr_calls: Cell::new(0),
            created: RefCell::new(Vec::new()),
            tripped: Cell::new(false),
            after_trip: RefCell::new(Vec::new()),
        }
    }

    /// Notes a call; refuses it when `refuse`.
    fn call(&self, method: &'static str, refuse: bool) -> Result<(), ForgeError> {
        if self.tripped.get() {
            self.after_trip.borrow_mut().push(method);
        }
        if refuse {
            self.tripped.set(true);
            return Err(ForgeError::RateLimited {
                message: format!("the test's budget ({:?}) is spent", self.fault),
                resets_at: Some(RESETS_AT),
            });
        }
        Ok(())
    }

    /// A content-creating call: counted, refused from the configured one on.
    fn create(&self, method: &'static str, feedstock: &str) -> Result<(), ForgeError> {
        let n = self.creates.get() + 1;
        self.creates.set(n);
        let refuse = matches!(self.fault, Fault::Create(at) if n >= at);
        self.call(method, refuse)?;
        self.created
            .borrow_mut()
            .push((method, feedstock.to_string()));
        Ok(())
    }
}

impl Forge for Limited<'_> {
    fn kind(&self) -> &'static str {
        "limited-local"
    }

    fn list_feedstocks(&self) -> Result<Vec<FeedstockRepo>, ForgeError> {
        self.call("list_feedstocks", self.fault == Fault::Listing)?;
        self.inner.list_feedstocks()
    }

    fn sync_checkout(&self, feedstock: &str, dest: &Path) -> Result<String, ForgeError> {
        let n = self.syncs.get() + 1;
        self.syncs.set(n);
        let refuse = matches!(self.fault, Fault::Sync(at) if n >= at);
        self.call("sync_checkout", refuse)?;
        self.inner.sync_checkout(feedstock, dest)
    }

    fn push_branch(
        &self,
        feedstock: &str,
        base: &str,
        branch: &str,
        commit: &CommitSpec,
    ) -> Result<String, ForgeError> {
        self.create("push_branch", feedstock)?;
        self.inner.push_branch(feedstock, base, branch, commit)
    }

    fn find_open_pr(
        &self,
        feedstock: &str,
        branch: &str,
    ) -> Result<Option<PullRequest>, ForgeError> {
        self.call("find_open_pr", false)?;
        self.inner.find_open_pr(feedstock, branch)
    }

    fn open_pr(&self, pr: &NewPullRequest) -> Result<PullRequest, ForgeError> {
        self.create("open_pr", &pr.feedstock)?;
        self.inner.open_pr(pr)
    }

    fn update_pr(
        &self,
        feedstock: &str,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, ForgeError> {
        self.create("update_pr", feedstock)?;
        self.inner.update_pr(feedstock, number, title, body)
    }

    fn pr(&self, feedstock: &str, number: u64) -> Result<PullRequest, ForgeError> {
        self.pr_calls.set(self.pr_calls.get() + 1);
        self.call("pr", false)?;
        self.inner.pr(feedstock, number)
    }

    fn prs(&self, refs: &[(String, u64)]) -> Vec<Result<PullRequest, ForgeError>> {
        self.prs_calls.borrow_mut().push(refs.to_vec());
        let n = self.prs_calls.borrow().len();
        let refuse = matches!(self.fault, Fault::Prs(at) if n >= at);
        if let Err(err) = self.call("prs", refuse) {
            // A batching forge that runs out half-way answers the first PRs and then
            // refuses the rest: the run must stop at the first refusal.
            let half = refs.len() / 2;
            let mut answers = self.inner.prs(&refs[..half]);
            answers.push(Err(err));
            for _ in half + 1..refs.len() {
                answers.push(Err(ForgeError::RateLimited {
                    message: "still spent".to_string(),
                    resets_at: Some(RESETS_AT),
                }));
            }
            return answers;
        }
        self.inner.prs(refs)
    }

    fn close_pr(&self, feedstock: &str, number: u64) -> Result<PullRequest, ForgeError> {
        self.create("close_pr", feedstock)?;
        self.inner.close_pr(feedstock, number)
    }

    fn comment(&self, feedstock: &str, number: u64, body: &str) -> Result<(), ForgeError> {
        self.create("comment", feedstock)?;
        self.inner.comment(feedstock, number, body)
    }

    fn delete_branch(&self, feedstock: &str, branch: &str) -> Result<(), ForgeError> {
        self.create("delete_branch", feedstock)?;
        self.inner.delete_branch(feedstock, branch)
    }
}
