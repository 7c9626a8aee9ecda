//! Synthetic but realistic chat data for the search benchmark: members with Chinese names,
//! ~200 groups (a few busy, most quiet), and work-chat messages (meetings, projects, expenses,
//! @mentions, files, links, chat records) written straight through the store in big
//! transactions: the point is the index, not the HTTP path.

use officebox::chat::model::{
    ConvKind, Conversation, FileRef, LinkCard, MemberRow, Merged, MergedItem, Message, MsgKind,
};
use officebox::chat::store as chat;
use officebox::org::model::Member;
use officebox::platform::store::{meta, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

pub const CONVERSATIONS: usize = 200;
const MEMBERS: usize = 2_000;
/// Groups the benchmark user is in.
pub const USER_CONVERSATIONS: usize = 50;
const CHUNK: u64 = 50_000;
const DAY_MS: i64 = 86_400_000;

const SURNAMES: &str =
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈";
const GIVEN: &str = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉梅文斌宇浩然子轩欣怡雨萱晨阳思远佳琪";
const SUBJECTS: &[&str] = &[
    "项目",
    "客户",
    "需求",
    "方案",
    "合同",
    "报价",
    "预算",
    "周报",
    "测试",
    "上线",
    "版本",
    "会议",
    "培训",
    "招聘",
    "报销",
    "发票",
    "采购",
    "库存",
    "订单",
    "发货",
    "季度目标",
    "用户反馈",
    "接口文档",
    "服务器",
    "数据报表",
    "市场活动",
];
const TIMES: &[&str] =
    &["明天上午", "今天下午", "下周一", "周五之前", "月底前", "晚上八点", "十点半", "后天", "这周内", "中午"];
const ACTIONS: &[&str] =
    &["讨论", "确认", "提交", "审批", "跟进", "整理", "核对", "更新", "安排", "评审", "汇总", "修改"];
const DONE: &[&str] = &["完成", "提交", "发出", "审批通过", "上线", "更新", "处理好"];
const SHORT: &[&str] = &["好的，收到", "收到👌", "OK", "没问题", "谢谢！", "辛苦了", "我看一下", "稍等", "嗯嗯", "👍"];
const GROUPS: &[&str] =
    &["研发", "产品", "市场", "销售", "运营", "财务", "人事", "行政", "客服", "采购", "法务", "设计", "测试", "数据"];
const SUFFIX: &[&str] = &["部", "群", "项目组", "交流群", "周会", "攻坚小组"];

pub struct World {
    /// The benchmark user's groups (the last two hide history from before their join).
    pub user_convs: Vec<u64>,
    pub messages: u64,
    pub write_ms: u128,
}

fn pick<'a>(rng: &mut StdRng, xs: &[&'a str]) -> &'a str {
    xs[rng.gen_range(0..xs.len())]
}

pub fn name(i: usize) -> String {
    let s: Vec<char> = SURNAMES.chars().collect();
    let g: Vec<char> = GIVEN.chars().collect();
    [s[i % s.len()], g[(i / s.len()) % g.len()], g[(i * 7 + 3) % g.len()]].iter().collect()
}

/// One line of work chat.
fn text(rng: &mut StdRng, names: &[String]) -> String {
    let n = || names[0].clone();
    let who = names.get(rng.gen_range(0..names.len().max(1))).cloned().unwrap_or_else(n);
    let (s, t, a, d) = (pick(rng, SUBJECTS), pick(rng, TIMES), pick(rng, ACTIONS), pick(rng, DONE));
    match rng.gen_range(0..12) {
        0 => format!("{t}{a}一下{s}的进度"),
        1 => format!("@{who} {s}{a}了吗？"),
        2 => format!("{s}已经{d}，请{who}看一下"),
        3 => format!("这个{s}有问题，{t}再{a}"),
        4 => format!("麻烦{a}一下{s}，谢谢"),
        5 => format!("{who}，{s}的文件放在共享盘里了"),
        6 => format!("我们{t}开个会{a}{s}"),
        7 => format!("客户说{s}需要{a}，{t}给答复"),
        8 => format!("第{}号{s}已{d}，金额{}元", rng.gen_range(1..500), rng.gen_range(100..99_999)),
        9 => format!("{s} v{}.{} 的 bug 已修复，{t}发布", rng.gen_range(1..5), rng.gen_range(0..20)),
        _ => pick(rng, SHORT).to_owned(),
    }
}

fn file(size: u64, name: String, mime: &str) -> FileRef {
    FileRef { sha: "0".repeat(64), name, size, mime: mime.into(), ..FileRef::default() }
}

/// A message of a realistic type mix: mostly text, some files, images, links, voice, records.
fn message(rng: &mut StdRng, seq: u64, conv: u64, sender: u64, at: i64, names: &[String]) -> Message {
    let base = Message { seq, conversation_id: conv, sender_id: sender, at, ..Message::default() };
    let s = pick(rng, SUBJECTS);
    let (size, n) = (rng.gen_range(1_000..5_000_000), rng.gen_range(1..9999));
    match rng.gen_range(0..100) {
        0..=3 => Message {
            kind: MsgKind::File,
            file: Some(file(size, format!("{s}方案v{}.pdf", n % 9 + 1), "application/pdf")),
            ..base
        },
        4..=6 => {
            Message { kind: MsgKind::Image, file: Some(file(size, format!("IMG_{n:04}.jpg"), "image/jpeg")), ..base }
        }
        7..=8 => Message {
            kind: MsgKind::Link,
            link: Some(LinkCard {
                url: format!("https://wiki.example.cn/{}", rng.gen_range(1..99_999)),
                title: format!("{s}周报"),
                description: format!("本周{s}进展与下周计划"),
            }),
            ..base
        },
        9 => Message { kind: MsgKind::Voice, file: Some(file(size, "语音.amr".into(), "audio/amr")), ..base },
        10 => Message {
            kind: MsgKind::Merged,
            merged: Some(Merged {
                title: format!("{}和{}的聊天记录", names[0], names[names.len() - 1]),
                items: (0..3)
                    .map(|_| MergedItem { kind: MsgKind::Text, text: text(rng, names), ..MergedItem::default() })
                    .collect(),
            }),
            ..base
        },
        _ => Message { kind: MsgKind::Text, text: text(rng, names), ..base },
    }
}

/// Write members, groups and `total` messages; `user` joins the first USER_CONVERSATIONS.
pub fn write(store: &Store, user: u64, total: u64) -> World {
    let started = Instant::now();
    let members: Vec<u64> = store
        .write_blocking(|tx| {
            let mut ids = Vec::new();
            for i in 0..MEMBERS {
                let id = tx.next_seq()?;
                let m = Member {
                    id,
                    userid: format!("u{i:05}"),
                    name: name(i),
                    position: ["工程师", "经理", "专员", "主管"][i % 4].into(),
                    created_at: tx.now,
                    updated_at: tx.now,
                    ..Member::default()
                };
                officebox::org::store::put_member(tx, None, &m)?;
                ids.push(id);
            }
            Ok(ids)
        })
        .expect("members");
    // Membership is decided up front (deterministically), so the message chunks can be re-run.
    let mut rng = StdRng::seed_from_u64(7);
    let mut people: Vec<Vec<u64>> = Vec::new();
    for c in 0..CONVERSATIONS {
        let size = if c % 10 == 0 { rng.gen_range(100..300) } else { rng.gen_range(5..60) };
        let mut ps: Vec<u64> = (0..size).map(|_| members[rng.gen_range(0..members.len())]).collect();
        if c < USER_CONVERSATIONS {
            ps.push(user);
        }
        ps.sort_unstable();
        ps.dedup();
        people.push(ps);
    }
    let now = store.now_ms();
    let conv_ids: Vec<u64> = {
        let people = people.clone();
        store
            .write_blocking(move |tx| {
                let mut ids = Vec::new();
                for (c, ps) in people.iter().enumerate() {
                    let id = tx.next_seq()?;
                    let name = format!("{}{}", GROUPS[c % GROUPS.len()], SUFFIX[(c / GROUPS.len()) % SUFFIX.len()]);
                    let mut conv = Conversation {
                        id,
                        kind: ConvKind::Group,
                        name,
                        owner_id: ps[0],
                        last_seq: id,
                        created_at: now - 200 * DAY_MS,
                        ..Conversation::default()
                    };
                    for u in ps {
                        let row = MemberRow { joined_at: conv.created_at, joined_seq: id, ..MemberRow::default() };
                        chat::add_member(tx, &mut conv, *u, row)?;
                    }
                    chat::put_conversation(tx, &conv)?;
                    ids.push(id);
                }
                Ok(ids)
            })
            .expect("conversations")
    };
    // Busy and quiet groups: weight 1 + 9 for every fifth group.
    let weights: Vec<u32> = (0..CONVERSATIONS).map(|c| if c % 5 == 0 { 10 } else { 1 }).collect();
    let dist = rand::distributions::WeightedIndex::new(&weights).expect("weights");
    let names: Vec<Vec<String>> =
        people.iter().map(|ps| ps.iter().take(8).map(|u| name((*u as usize) % MEMBERS)).collect()).collect();
    let span = 180 * DAY_MS;
    let mut written = 0u64;
    let mut middle = 0u64;
    while written < total {
        let n = CHUNK.min(total - written);
        let (dist, people, names, conv_ids) = (dist.clone(), people.clone(), names.clone(), conv_ids.clone());
        let first_seq = store
            .write_blocking(move |tx| {
                let mut rng = StdRng::seed_from_u64(written);
                // Reserve the seqs of the chunk at once (one meta write, not one per message).
                let first = tx.next_seq()?;
                meta::set_seq(tx.txn, first + n - 1)?;
                let mut t = chat::MESSAGES.open(tx.txn)?;
                for i in 0..n {
                    let c = rng.sample(&dist);
                    let sender = people[c][rng.gen_range(0..people[c].len())];
                    let at = now - span + span * (written + i) as i64 / total as i64;
                    let m = message(&mut rng, first + i, conv_ids[c], sender, at, &names[c]);
                    t.put(&(m.conversation_id, m.seq), &m)?;
                }
                Ok(first)
            })
            .expect("messages");
        if written <= total / 2 {
            middle = first_seq + (total / 2 - written).min(n - 1);
        }
        written += n;
    }
    // The user joined their last two groups halfway through, with history hidden.
    let hidden: Vec<u64> = conv_ids[USER_CONVERSATIONS - 2..USER_CONVERSATIONS].to_vec();
    store
        .write_blocking(move |tx| {
            for c in &hidden {
                let row =
                    MemberRow { joined_seq: middle, visible_from: middle, read_seq: middle, ..MemberRow::default() };
                chat::put_member_row(tx, *c, user, &row)?;
            }
            Ok(())
        })
        .expect("hidden history");
    World {
        user_convs: conv_ids[..USER_CONVERSATIONS].to_vec(),
        messages: written,
        write_ms: started.elapsed().as_millis(),
    }
}
