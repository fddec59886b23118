//! The field and capability vocabulary (spec §2.3): core fields plus host-registered extensions.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Number,
    Bool,
    String,
    Caps,
}

impl FieldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Number => "number",
            FieldKind::Bool => "bool",
            FieldKind::String => "string",
            FieldKind::Caps => "caps",
        }
    }
    pub fn parse(s: &str) -> Option<FieldKind> {
        match s {
            "number" => Some(FieldKind::Number),
            "bool" => Some(FieldKind::Bool),
            "string" => Some(FieldKind::String),
            "caps" => Some(FieldKind::Caps),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub kind: FieldKind,
    pub description: String,
    pub core: bool,
}

/// (name, kind, description) of every core field, in the order `GET /x/fields` lists them.
pub const CORE_FIELDS: &[(&str, FieldKind, &str)] = &[
    ("id", FieldKind::String, "Model id, unique in a catalog."),
    ("provider", FieldKind::String, "Provider the host routes the model through (openai, anthropic, gemini, ...)."),
    ("family", FieldKind::String, "Model line, e.g. gpt-4o, claude-sonnet, gemini-flash."),
    ("region", FieldKind::String, "Where the provider serves the model (global, us, eu, ...)."),
    ("price_in", FieldKind::Number, "USD per million input tokens."),
    ("price_out", FieldKind::Number, "USD per million output tokens."),
    ("context", FieldKind::Number, "Context window in tokens."),
    ("max_output", FieldKind::Number, "Largest completion in tokens."),
    ("bench_intelligence", FieldKind::Number, "Quality score in 0..1; its source is in the model's meta."),
    ("latency_ms", FieldKind::Number, "Typical time to first token, milliseconds."),
    ("throughput_tps", FieldKind::Number, "Typical output tokens per second."),
    ("cap_tools", FieldKind::Bool, "Supports tool / function calling."),
    ("cap_reasoning", FieldKind::Bool, "A reasoning model."),
    ("cap_json", FieldKind::Bool, "Supports structured output (JSON mode or JSON schema)."),
    ("in_image", FieldKind::Bool, "Accepts image input."),
    ("no_log", FieldKind::Bool, "The provider does not log or retain prompts."),
    ("has_tee", FieldKind::Bool, "Served from a trusted execution environment."),
    ("disabled", FieldKind::Bool, "Switched off by the operator."),
    ("capabilities", FieldKind::Caps, "Capability set tested by has_cap."),
];

/// The core capability vocabulary for `has_cap`.
pub const CORE_CAPABILITIES: &[&str] = &[
    "supports_tools",
    "supports_json_mode",
    "supports_response_schema",
    "supports_vision",
    "supports_reasoning",
    "supports_streaming",
    "supports_system_messages",
    "supports_prompt_caching",
    "supports_pdf_input",
    "supports_audio_input",
    "supports_audio_output",
    "supports_web_search",
    "supports_parallel_tool_calls",
    "supports_tool_choice",
];

/// Core vocabulary plus extensions. Admission checks names against it; the catalog owns one.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    fields: Vec<FieldDef>,
    capabilities: Vec<String>,
}

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary::core()
    }
}

impl Vocabulary {
    pub fn core() -> Self {
        Vocabulary {
            fields: CORE_FIELDS
                .iter()
                .map(|(n, k, d)| FieldDef { name: (*n).to_string(), kind: *k, description: (*d).to_string(), core: true })
                .collect(),
            capabilities: CORE_CAPABILITIES.iter().map(|c| (*c).to_string()).collect(),
        }
    }

    /// Adds an extension field; returns false when the name is already taken.
    pub fn add_field(&mut self, name: &str, kind: FieldKind, description: &str) -> bool {
        if self.field(name).is_some() {
            return false;
        }
        self.fields.push(FieldDef { name: name.to_string(), kind, description: description.to_string(), core: false });
        true
    }

    pub fn add_capability(&mut self, name: &str) {
        if !self.has_capability(name) {
            self.capabilities.push(name.to_string());
        }
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn fields(&self) -> &[FieldDef] {
        &self.fields
    }

    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities.iter().any(|c| c == name)
    }

    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }
}
