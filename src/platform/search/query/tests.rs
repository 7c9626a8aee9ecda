use super::super::SearchDoc;
use super::*;
use tantivy::{Index, IndexWriter, ReloadPolicy};

fn live(docs: &[SearchDoc]) -> Live {
    let (schema, fields) = schema::build();
    let index = Index::create_in_ram(schema);
    schema::register_tokenizers(&index);
    let mut w: IndexWriter<TantivyDocument> = index.writer_with_num_threads(1, 15_000_000).unwrap();
    for d in docs {
        w.add_document(schema::to_document(&fields, d)).unwrap();
    }
    w.commit().unwrap();
    let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().unwrap();
    Live { reader, fields }
}

fn person(id: u64, name: &str, body: &str, pinyin: &[&str]) -> SearchDoc {
    SearchDoc {
        key: format!("person:{id}"),
        kind: "person".into(),
        title: name.into(),
        body: body.into(),
        pinyin: pinyin.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn message(conv: u64, seq: u64, text: &str, tags: &[&str]) -> SearchDoc {
    let mut all = vec![format!("conv:{conv}")];
    all.extend(tags.iter().map(|t| t.to_string()));
    SearchDoc {
        key: format!("m:{conv}:{seq}"),
        kind: "m".into(),
        body: text.into(),
        at: seq as i64 * 1000,
        sort: seq,
        tags: all,
        ..Default::default()
    }
}

fn relevance(l: &Live, q: &str, kinds: &[&str]) -> Vec<Hit> {
    let kinds = kinds.iter().map(|k| k.to_string()).collect();
    run(l, &Request { text: q.into(), kinds, limit: 10, ..Default::default() }).unwrap()
}

fn keys(l: &Live, q: &str) -> Vec<String> {
    relevance(l, q, &["person"]).into_iter().map(|h| h.key).collect()
}

#[test]
fn names_pinyin_initials_and_parts() {
    let l = live(&[
        person(1, "张三", "工程师 zhangsan", &["zhangsan", "zs"]),
        person(2, "李四", "经理 lisi", &["lisi", "ls"]),
    ]);
    for q in ["张三", "zhangsan", "zs", "张", "三", "zhangs", "ZhangSan", "工程师"] {
        assert_eq!(keys(&l, q).first().map(String::as_str), Some("person:1"), "{q}");
    }
    assert_eq!(keys(&l, "李").first().map(String::as_str), Some("person:2"));
    assert!(keys(&l, "王五").is_empty());
    assert!(keys(&l, "   ").is_empty());
    assert!(relevance(&l, "张三", &["message"]).is_empty());
}

#[test]
fn snippets_escape_everything_but_b() {
    let l = live(&[person(1, "<script>x</script>张", "a&b \"q\" 'r'", &[])]);
    let hits = relevance(&l, "张", &[]);
    assert_eq!(hits.len(), 1);
    let html = &hits[0].snippet_html;
    assert_eq!(html, "&lt;script&gt;x&lt;/script&gt;<b>张</b> · a&amp;b &quot;q&quot; &#39;r&#39;");
    let bare = html.replace("<b>", "").replace("</b>", "");
    assert!(!bare.contains(['<', '>', '"', '\'']), "{html}");
    let hits = relevance(&l, "script", &[]);
    assert!(hits[0].snippet_html.starts_with("&lt;<b>script</b>&gt;"), "{}", hits[0].snippet_html);
}

fn newest(l: &Live, q: &str, filter: Filter) -> Vec<u64> {
    let req = Request { text: q.into(), kinds: vec!["m".into()], filter, order: Order::Newest, limit: 10 };
    run(l, &req).unwrap().into_iter().map(|h| h.sort).collect()
}

fn convs(ids: &[u64]) -> Vec<Vec<String>> {
    vec![ids.iter().map(|c| format!("conv:{c}")).collect()]
}

#[test]
fn newest_first_requires_every_word_and_honours_the_filter() {
    let l = live(&[
        message(1, 10, "明天上午开会讨论项目进度", &["type:text", "sender:5"]),
        message(1, 11, "项目报销单已经提交", &["type:text", "sender:6"]),
        message(2, 12, "项目计划书.pdf", &["type:file", "sender:5"]),
        message(3, 13, "项目预算", &["type:text", "sender:5"]),
        message(1, 14, "<b>加粗</b> 不是项目", &["type:text", "sender:5"]),
    ]);
    let mine = || Filter { any_of: convs(&[1, 2]), ..Default::default() };
    assert_eq!(newest(&l, "项目", mine()), [14, 12, 11, 10], "conversation 3 is not mine");
    assert_eq!(newest(&l, "项目 进度", mine()), [10], "every word is required");
    assert_eq!(newest(&l, "目进", mine()), [10], "a partial word across jieba words");
    assert_eq!(newest(&l, "报", mine()), [11], "one character");
    assert!(newest(&l, "天气", mine()).is_empty());
    let mut f = mine();
    f.any_of.push(vec!["type:file".into()]);
    assert_eq!(newest(&l, "项目", f), [12]);
    let mut f = mine();
    f.any_of.push(vec!["sender:6".into(), "sender:7".into()]);
    assert_eq!(newest(&l, "项目", f), [11]);
    assert_eq!(newest(&l, "项目", Filter { at_from: Some(11_000), at_to: Some(14_000), ..mine() }), [12, 11]);
    assert_eq!(newest(&l, "项目", Filter { sort_before: Some(12), ..mine() }), [11, 10], "cursor");
    let hidden = Filter { hide_below: vec![("conv:1".into(), 11)], ..mine() };
    assert_eq!(newest(&l, "项目", hidden), [14, 12, 11], "history before 11 hidden in conversation 1");
    assert!(newest(&l, "项目", Filter { any_of: vec![vec![]], ..Default::default() }).is_empty());
    assert_eq!(newest(&l, "", Filter { any_of: convs(&[2, 3]), ..Default::default() }), [13, 12], "empty text lists");
    assert!(newest(&l, "!!", mine()).is_empty(), "punctuation alone lists nothing");
    let hits =
        run(&l, &Request { text: "加粗".into(), filter: mine(), order: Order::Newest, limit: 5, ..Default::default() })
            .unwrap();
    assert_eq!(hits[0].snippet_html, "&lt;b&gt;<b>加粗</b>&lt;/b&gt; 不是项目");
    assert_eq!((hits[0].at, hits[0].sort, hits[0].key.as_str()), (14_000, 14, "m:1:14"));
}

#[test]
fn filters_do_not_change_the_relevance_order() {
    let group = |id: u64, name: &str| SearchDoc {
        key: format!("g:{id}"),
        kind: "g".into(),
        title: name.into(),
        tags: vec![format!("conv:{id}")],
        ..Default::default()
    };
    let mut docs = vec![group(1, "研发部"), group(2, "研发部 研发 讨论")];
    // Conversation 1 has many documents, so its tag is common (low idf).
    docs.extend((0..50).map(|i| message(1, 100 + i, "你好", &[])));
    let l = live(&docs);
    let req =
        |filter| Request { text: "研发".into(), kinds: vec!["g".into()], filter, limit: 5, ..Default::default() };
    let plain: Vec<String> = run(&l, &req(Filter::default())).unwrap().into_iter().map(|h| h.key).collect();
    let filtered: Vec<String> = run(&l, &req(Filter { any_of: convs(&[1, 2]), ..Default::default() }))
        .unwrap()
        .into_iter()
        .map(|h| h.key)
        .collect();
    assert_eq!(plain, filtered);
}
