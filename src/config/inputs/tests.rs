//! Reading inputs: every input has its field, and the one-pass lookup agrees with
//! building each name and looking for it.

use super::*;

/// `lookup` as first written: each name built, then looked for.
fn by_names(vars: &[(String, String)], input: &str) -> Option<(String, String)> {
    env_names(input).into_iter().find_map(|name| {
        let (_, v) = vars.iter().find(|(k, _)| *k == name)?;
        let v = v.trim();
        (!v.is_empty()).then(|| (name, v.to_owned()))
    })
}

#[test]
fn every_input_has_a_field_of_its_own() {
    let mut raw = RawInputs::default();
    let mut slots: Vec<*const Option<String>> =
        INPUTS.iter().map(|i| std::ptr::from_ref(raw.slot(i.name).expect(i.name))).collect();
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), INPUTS.len());
    // So one variable never spells two inputs (`with_redactor` moves each one out).
    assert!(INPUTS.iter().all(|i| !i.name.contains('_')), "an input name with `_`");
    // And no field without an input: the struct is exactly one slot per input.
    assert_eq!(size_of::<RawInputs>(), INPUTS.len() * size_of::<Option<String>>());
    assert!(raw.slot("api_key").is_none() && raw.slot("").is_none());
}

#[test]
fn an_environment_block_reads_as_std_reads_the_environment() {
    let block = b"INPUT_POST-ID=p1\0PATH=/bin\0INPUT_TIMEOUT=a=b\0INPUT_X=\xff\0NOEQUALS\0=odd=1\0\
                  INPUT_POST-ID=p2\0INPUT_EMPTY=\0";
    let all = vars_of_block(block, |_| true);
    // A value that is not UTF-8 is kept as NOT_UTF8, for the input to refuse by name.
    let pairs = [
        ("INPUT_POST-ID", "p1"),
        ("PATH", "/bin"),
        ("INPUT_TIMEOUT", "a=b"),
        ("INPUT_X", NOT_UTF8),
        ("=odd", "1"),
    ];
    let mut want: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    want.extend([("INPUT_POST-ID".into(), "p2".into()), ("INPUT_EMPTY".into(), String::new())]);
    assert_eq!(all, want);
    let inputs = vars_of_block(block, is_input_var);
    assert_eq!(inputs.len(), 5, "{inputs:?}");
    assert!(inputs.iter().all(|(k, _)| k.starts_with("INPUT_")));
    // Empty entries (two NULs in a row), a last entry without its NUL, nothing at all.
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        vars_of_block(b"\0INPUT_A=1\0\0\0INPUT_B=2", |_| true),
        [pair("INPUT_A", "1"), pair("INPUT_B", "2")]
    );
    assert_eq!(vars_of_block(b"INPUT_A=1\0\0", |_| true), [pair("INPUT_A", "1")]);
    assert!(vars_of_block(b"", |_| true).is_empty() && vars_of_block(b"\0\0", |_| true).is_empty());
    let e =
        crate::config::Config::from_vars(vars_of_block(b"INPUT_POST-ID=p\0INPUT_TIMEOUT=5\xffm\0", |_| true))
            .unwrap_err()
            .0;
    assert_eq!(
        e,
        "input 'timeout' (from INPUT_TIMEOUT) is not UTF-8 text: give it as UTF-8 (a file saved in another \
         encoding, such as Latin-1?)"
    );
    // This process's own block, as Linux keeps it, against std's reading of it, as
    // multisets (under qemu-user std lists the variables in another order). Only names
    // are printed: values may hold secrets.
    #[cfg(target_os = "linux")]
    if let Ok(block) = std::fs::read("/proc/self/environ") {
        let mut std: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| {
                Some((k.into_string().ok()?, v.into_string().unwrap_or_else(|_| NOT_UTF8.into())))
            })
            .collect();
        let mut ours = vars_of_block(&block, |_| true);
        std.sort();
        ours.sort();
        if ours != std {
            let names = |v: &[(String, String)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
            panic!("/proc/self/environ: {:?}\nstd: {:?}", names(&ours), names(&std));
        }
    }
}

#[test]
fn lookup_finds_what_the_names_say() {
    let names = [
        "INPUT_POST-ID",
        "INPUT_POST_ID",
        "POSTEVERYWHERE_POST_ID",
        "INPUT_TIMEOUT",
        "POSTEVERYWHERE_TIMEOUT",
        "input_post-id",
        "INPUT_POST-IDX",
        "POSTEVERYWHERE_POST-ID",
        "INPUT_API-KEY",
        "INPUT_API_KEY",
        "POSTEVERYWHERE_API_KEY",
        "PATH",
        "INPUT_",
        "POSTEVERYWHERE_",
    ];
    let values = ["", " ", "a", " b "];
    // Every subset of a few names, in two orders, with each kind of value, duplicates too.
    for mask in 0u32..(1 << 7) {
        for (shift, value) in values.iter().enumerate() {
            let mut vars: Vec<(String, String)> = names
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << (i % 7)) != 0)
                .map(|(i, n)| ((*n).to_owned(), values[(i + shift) % values.len()].to_owned()))
                .collect();
            vars.push(("INPUT_TIMEOUT".into(), (*value).to_owned()));
            for vars in [vars.clone(), vars.into_iter().rev().collect()] {
                let inputs = ["post-id", "timeout", "api-key", "base-url"];
                let got = lookup(&vars, inputs);
                for (input, got) in inputs.iter().zip(got) {
                    let got = got.map(|(k, v)| (k.to_owned(), v.to_owned()));
                    assert_eq!(got, by_names(&vars, input), "{input} in {vars:?}");
                }
                // Start-up keeps only the variables `is_input_var` takes: the same.
                let kept: Vec<_> = vars.iter().filter(|(k, _)| is_input_var(k.as_bytes())).cloned().collect();
                assert_eq!(lookup(&kept, inputs), lookup(&vars, inputs), "{vars:?}");
            }
        }
    }
}
