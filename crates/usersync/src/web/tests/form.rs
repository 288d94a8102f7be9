//! What a browser submits for a form on a page: the test's stand-in for pressing
//! Save, read from the HTML the console rendered (inputs with a name in document
//! order, checked checkboxes and radios only, each select's selected option, each
//! textarea's text; password fields as the empty values they are rendered with).

/// The named fields the form with id `form_id` in `html` submits, in order.
pub fn submitted(html: &str, form_id: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("id=\"{form_id}\""))
        .unwrap_or_else(|| panic!("no form {form_id} in the page"));
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    let form = &html[start..end];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let (element, attrs, after) = tag(rest);
        rest = after;
        let name = attr(&attrs, "name");
        match (element.as_str(), name) {
            ("input", Some(name)) => {
                let kind = attr(&attrs, "type").unwrap_or_else(|| "text".into());
                let value = attr(&attrs, "value").unwrap_or_default();
                let checkable = kind == "checkbox" || kind == "radio";
                if kind != "submit" && (!checkable || has(&attrs, "checked")) {
                    out.push((name, value));
                }
            }
            ("textarea", Some(name)) => {
                let text = rest.split("</textarea>").next().unwrap_or("");
                out.push((name, unescape(text)));
            }
            ("select", Some(name)) => {
                let body = rest.split("</select>").next().unwrap_or("");
                let options: Vec<Vec<(String, Option<String>)>> = body
                    .split("<option")
                    .skip(1)
                    .map(|o| tag(&format!("option{o}")).1)
                    .collect();
                let chosen = options
                    .iter()
                    .find(|o| has(o, "selected"))
                    .or(options.first());
                if let Some(option) = chosen {
                    out.push((name, attr(option, "value").unwrap_or_default()));
                }
            }
            _ => {}
        }
    }
    out
}

/// A tag's name, its attributes (name, value) and the text after its `>`.
fn tag(text: &str) -> (String, Vec<(String, Option<String>)>, &str) {
    let name_end = text
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(text.len());
    let name = text[..name_end].to_ascii_lowercase();
    let mut attrs = Vec::new();
    let mut rest = &text[name_end..];
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() || rest.starts_with('>') {
            return (name, attrs, rest.get(1..).unwrap_or(""));
        }
        let key_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '>')
            .unwrap_or(rest.len());
        let key = rest[..key_end].to_ascii_lowercase();
        rest = &rest[key_end..];
        if let Some(after_eq) = rest.strip_prefix('=') {
            let quote = after_eq.chars().next().unwrap_or('"');
            let body = &after_eq[1..];
            let close = body.find(quote).unwrap_or(body.len());
            attrs.push((key, Some(unescape(&body[..close]))));
            rest = body.get(close + 1..).unwrap_or("");
        } else {
            attrs.push((key, None));
        }
    }
}

fn attr(attrs: &[(String, Option<String>)], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.clone())
}

fn has(attrs: &[(String, Option<String>)], key: &str) -> bool {
    attrs.iter().any(|(k, _)| k == key)
}

/// Undoes HTML escaping: the named entities askama writes and numeric ones.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| match &rest[1..e] {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "amp" => Some('&'),
            "apos" => Some('\''),
            entity => {
                let number = entity.strip_prefix('#')?;
                let code = match number.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => number.parse().ok()?,
                };
                char::from_u32(code)
            }
        });
        match (decoded, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
