//! v0 `meta.yaml` rendering (the conda-build format): selectors, Jinja, YAML, model.
//!
//! The pipeline per variant follows conda-build, not the bot's shortcut:
//! 1. `# [selector]` lines are evaluated in the variant's namespace and false lines are
//!    blanked *before* Jinja runs (conda-build's `FilteredLoader`), so a selector on a
//!    `{% set %}` line decides whether the set happens;
//! 2. the filtered text renders in a sandboxed minijinja environment ([`jinja`]) with
//!    the namespace plus conda-build's `environ.get_dict` as context;
//! 3. selectors that only appear in the rendered text are applied (`metadata.parse`);
//! 4. the YAML is read into the model ([`extract`]).
//!
//! [`Template::parse`] does the per-recipe work once: it splits selectors off the lines,
//! compiles each distinct selector, rewrites `'%s' % x`, and collects the variant keys
//! the recipe can read. The compiled Jinja template is cached per distinct selector
//! outcome, so variants that select the same lines never re-parse the template.
//! Every step keeps one output line per recipe line, so errors carry recipe lines.

mod clock;
mod extract;
mod jinja;
mod namespace;
mod percent;
mod selectors;
mod tags;
mod variables;
mod wire;

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::sync::{Arc, Mutex};

use minijinja::{Environment, OutputSpanKind, Value};

use self::extract::ExtractError;
use self::namespace::Namespace;
use self::selectors::{Selector, is_comment, split_line};
use super::{RecipeError, RenderedRecipe, Variant};

/// Prefix of the internal template names (`meta.yaml#0110`: one bit per selector).
const TEMPLATE_PREFIX: &str = "meta.yaml#";

/// The most rendered text one variant may produce (hostile loops stop here).
const MAX_RENDERED_BYTES: usize = 8 << 20;

/// A parsed v0 recipe, ready to render for many variants. Thread-safe: the compiled
/// templates live in an internal cache shared by all threads.
pub struct Template {
    lines: Arc<SourceLines>,
    selectors: Vec<Selector>,
    used: BTreeSet<String>,
    env: Box<Environment<'static>>,
    /// Models already extracted, by the rendered text they came from. Variants that
    /// differ in keys the recipe reads often still render the same text (a `py<310`
    /// selector is false for every modern python), and reading the YAML is the
    /// costliest step, so identical text is read once.
    extracted: Mutex<HashMap<String, RenderedRecipe>>,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("lines", &self.lines.lines.len())
            .field("selectors", &self.selectors)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

impl Template {
    /// Parses the recipe text: splits and compiles the selectors and collects the
    /// variables the recipe reads. A selector that does not compile is an error here,
    /// since no variant can fix it.
    pub fn parse(text: &str) -> Result<Template, RecipeError> {
        let mut used = BTreeSet::new();
        let mut selectors: Vec<Selector> = Vec::new();
        let mut by_text: HashMap<String, usize> = HashMap::new();
        let mut kinds = Vec::new();
        let mut contents = String::with_capacity(text.len());
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim_end();
            if is_comment(line) {
                kinds.push(None);
                contents.push('\n');
                continue;
            }
            let split = split_line(line).map_err(|message| RecipeError::Selector {
                line: index + 1,
                selector: selectors::clip(line),
                message,
            })?;
            match split {
                None => {
                    kinds.push(None);
                    contents.push_str(line);
                }
                Some(split) => {
                    let id = match by_text.get(&split.selector) {
                        Some(id) => *id,
                        None => {
                            let selector =
                                Selector::compile(&split.selector).map_err(|message| {
                                    RecipeError::Selector {
                                        line: index + 1,
                                        selector: selectors::clip(&split.selector),
                                        message,
                                    }
                                })?;
                            variables::collect(&split.selector, &mut used);
                            selectors.push(selector);
                            by_text.insert(split.selector.clone(), selectors.len() - 1);
                            selectors.len() - 1
                        }
                    };
                    kinds.push(Some((id, index + 1)));
                    contents.push_str(&split.content);
                }
            }
            contents.push('\n');
        }
        let rewritten = percent::rewrite(&contents);
        for region in tags::tag_regions(&rewritten) {
            if let Some(inner) = rewritten.get(region) {
                variables::collect(inner, &mut used);
            }
        }
        variables::always(&mut used);
        let lines = rewritten
            .split('\n')
            .zip(kinds)
            .map(|(content, kind)| SourceLine {
                content: content.to_string(),
                selector: kind,
            })
            .collect();
        let lines = Arc::new(SourceLines {
            lines,
            selector_count: selectors.len(),
        });
        let loader_lines = Arc::clone(&lines);
        let env = Box::new(jinja::recipe_environment(move |name| {
            Ok(loader_lines.load(name))
        }));
        Ok(Template {
            lines,
            selectors,
            used,
            env,
            extracted: Mutex::new(HashMap::new()),
        })
    }

    /// Variant keys the recipe can read (an over-approximation: never misses one).
    pub fn used_variables(&self) -> &BTreeSet<String> {
        &self.used
    }

    /// Renders for one variant.
    pub fn render(&self, variant: &Variant) -> Result<RenderedRecipe, RecipeError> {
        let namespace = Namespace::new(variant);
        let scope = namespace.selector_scope();
        let mut name = String::with_capacity(TEMPLATE_PREFIX.len() + self.selectors.len());
        name.push_str(TEMPLATE_PREFIX);
        for (id, selector) in self.selectors.iter().enumerate() {
            let keep = selector
                .eval(&scope)
                .map_err(|message| RecipeError::Selector {
                    line: self.lines.first_line_of(id).unwrap_or(0),
                    selector: selectors::clip(&selector.text),
                    message,
                })?;
            name.push(if keep { '1' } else { '0' });
        }
        let template = self.env.get_template(&name).map_err(jinja_error)?;
        let context = namespace.jinja_context(variant);
        let mut sink = LimitedSink::default();
        template
            .render_captured_to(context.clone(), &mut sink)
            .map_err(jinja_error)?;
        let rendered = String::from_utf8(sink.buf).map_err(|_| RecipeError::Jinja {
            line: None,
            message: "the rendered recipe is not UTF-8".to_string(),
        })?;
        let located = Located {
            template: &template,
            context: &context,
        };
        let selected =
            selectors::select_rendered(&rendered, &scope).map_err(|e| RecipeError::Selector {
                line: located.recipe_line(&rendered, e.line + 1).unwrap_or(0),
                selector: e.selector,
                message: e.message,
            })?;
        let text = selected.as_deref().unwrap_or(&rendered);
        if let Some(hit) = self
            .extracted
            .lock()
            .ok()
            .and_then(|m| m.get(text).cloned())
        {
            return Ok(hit);
        }
        let model = extract::extract(text).map_err(|err| match err {
            ExtractError::Yaml { line, message } => RecipeError::Yaml {
                line: line.and_then(|l| located.recipe_line(text, l)),
                message,
            },
            ExtractError::Structure { line, message } => RecipeError::Structure {
                line: line.and_then(|l| located.recipe_line(text, l)),
                message,
            },
        })?;
        if let Ok(mut extracted) = self.extracted.lock() {
            extracted.insert(text.to_string(), model.clone());
        }
        Ok(model)
    }
}

fn jinja_error(err: minijinja::Error) -> RecipeError {
    RecipeError::Jinja {
        line: err.line(),
        message: selectors::describe(&err),
    }
}

/// The recipe after selectors were split off: one entry per recipe line.
#[derive(Debug)]
struct SourceLines {
    lines: Vec<SourceLine>,
    selector_count: usize,
}

#[derive(Debug)]
struct SourceLine {
    /// The line without its selector comment (`%` formatting already rewritten).
    content: String,
    /// The selector id and the 1-based recipe line, when the line has a selector.
    selector: Option<(usize, usize)>,
}

impl SourceLines {
    /// The template source for an internal name, `None` for any other name (so a
    /// recipe's `{% include %}` finds nothing).
    fn load(&self, name: &str) -> Option<String> {
        let bits = name.strip_prefix(TEMPLATE_PREFIX)?.as_bytes();
        if bits.len() != self.selector_count || !bits.iter().all(|b| matches!(b, b'0' | b'1')) {
            return None;
        }
        let mut text = String::new();
        for (index, line) in self.lines.iter().enumerate() {
            if index > 0 {
                text.push('\n');
            }
            let keep = match line.selector {
                None => true,
                Some((id, _)) => bits.get(id) == Some(&b'1'),
            };
            if keep {
                text.push_str(&line.content);
            }
        }
        Some(text)
    }

    /// The first recipe line that uses a selector.
    fn first_line_of(&self, id: usize) -> Option<usize> {
        self.lines
            .iter()
            .find_map(|l| l.selector.filter(|(s, _)| *s == id).map(|(_, line)| line))
    }
}

/// Maps lines of rendered text back to recipe lines by re-rendering with output spans
/// (only on the error path).
struct Located<'a> {
    template: &'a minijinja::Template<'a, 'a>,
    context: &'a Value,
}

impl Located<'_> {
    /// The recipe line that produced the 1-based `line` of `text` (the rendered text
    /// after the second selector pass, which keeps line positions).
    fn recipe_line(&self, text: &str, line: usize) -> Option<usize> {
        let offset = line_offset(text, line)?;
        let (_, spans) = self.template.render_with_spans(self.context.clone()).ok()?;
        let span = spans
            .iter()
            .find(|s| s.output_range().contains(&offset))
            .or_else(|| {
                spans
                    .iter()
                    .rev()
                    .find(|s| s.output_range().start <= offset)
            })?;
        match span.kind() {
            OutputSpanKind::Raw => {
                let source = self.template.source();
                let at = span.source_range().start + (offset - span.output_range().start);
                let before = source.get(..at.min(source.len()))?;
                Some(before.bytes().filter(|b| *b == b'\n').count() + 1)
            }
            _ => Some(span.line()),
        }
    }
}

/// The byte offset where 1-based `line` starts.
fn line_offset(text: &str, line: usize) -> Option<usize> {
    if line <= 1 {
        return Some(0);
    }
    text.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)
}

/// Collects rendered output, refusing more than [`MAX_RENDERED_BYTES`].
#[derive(Default)]
struct LimitedSink {
    buf: Vec<u8>,
}

impl io::Write for LimitedSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > MAX_RENDERED_BYTES {
            return Err(io::Error::other(format!(
                "the rendered recipe exceeds {MAX_RENDERED_BYTES} bytes"
            )));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
