//! Directory search keys: a member is found by name, pinyin (full and initials, e.g. `zhangsan`
//! and `zs` for 张三), alias, account id, mobile and email.

use pinyin::{ToPinyin, ToPinyinMulti};

/// Pinyin spellings of a name: full and initials, for the common reading and for every reading
/// of the first character (surnames such as 曾 zeng / 单 shan differ from the common reading).
pub fn pinyin_keys(name: &str) -> (Vec<String>, Vec<String>) {
    let chars: Vec<char> = name.chars().collect();
    let Some(first) = chars.first() else { return (Vec::new(), Vec::new()) };
    let rest: Vec<(String, String)> = chars[1..].iter().map(|c| reading(*c)).collect();
    let mut heads: Vec<(String, String)> = match first.to_pinyin_multi() {
        Some(multi) => multi.into_iter().map(|p| (p.plain().to_owned(), p.first_letter().to_owned())).collect(),
        None => vec![reading(*first)],
    };
    heads.dedup();
    let mut full = Vec::new();
    let mut initials = Vec::new();
    for (hf, hi) in heads.into_iter().take(4) {
        full.push(format!("{hf}{}", rest.iter().map(|r| r.0.as_str()).collect::<String>()));
        initials.push(format!("{hi}{}", rest.iter().map(|r| r.1.as_str()).collect::<String>()));
    }
    full.dedup();
    initials.dedup();
    (full, initials)
}

fn reading(c: char) -> (String, String) {
    match c.to_pinyin() {
        Some(p) => (p.plain().to_owned(), p.first_letter().to_owned()),
        None => {
            let s = c.to_lowercase().to_string();
            (s.clone(), s)
        }
    }
}

/// The lowercase haystack stored per member.
pub fn haystack(name: &str, alias: &str, userid: &str, mobile: &str, email: &str) -> String {
    let (full, initials) = pinyin_keys(name);
    let (afull, ainitials) = pinyin_keys(alias);
    let digits: String = mobile.chars().filter(char::is_ascii_digit).collect();
    [name, alias, &full.join("|"), &initials.join("|"), &afull.join("|"), &ainitials.join("|"), userid, &digits, email]
        .join("|")
        .to_lowercase()
}

/// Sort key so lists come out in pinyin order, as Chinese users expect.
pub fn sort_key(name: &str) -> String {
    pinyin_keys(name).0.into_iter().next().unwrap_or_default()
}

pub fn matches(haystack: &str, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return true;
    }
    let q_compact: String = q.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    haystack.contains(&q) || (!q_compact.is_empty() && haystack.contains(&q_compact))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_full_and_initials() {
        let h = haystack("张三", "", "zs001", "138 0000 0001", "z@a.cn");
        for q in ["张三", "zhangsan", "zs", "zhang", "ZS", "13800000001", "138-0000", "z@a.cn", "zs001"] {
            assert!(matches(&h, q), "{q} should match");
        }
        assert!(!matches(&h, "lisi"));
    }

    #[test]
    fn surname_readings() {
        let (full, initials) = pinyin_keys("曾小明");
        assert!(full.iter().any(|f| f == "zengxiaoming"), "{full:?}");
        assert!(initials.iter().any(|i| i == "zxm"));
    }
}
