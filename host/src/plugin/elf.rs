//! A check of a shared library's file before it is handed to the dynamic loader.
//!
//! glibc's `dlopen` maps the segments a library's program headers name; when the file is
//! shorter than those headers claim (a truncated copy, an interrupted download), touching the
//! missing pages raises SIGBUS inside `dlopen`, which no Rust code can catch. Checking that
//! every loadable segment and the section-header table lie inside the file turns that crash
//! into an error message.

use object::{
    Endianness, FileKind,
    elf::{ET_DYN, FileHeader64, PT_LOAD},
    read::elf::{FileHeader, ProgramHeader},
};

/// What is wrong with a file that is not a loadable shared library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfProblem {
    /// The file is not a 64-bit ELF shared object at all.
    NotALibrary(String),
    /// The file is an ELF shared object whose contents end early or contradict its headers.
    Corrupt(String),
}

/// Checks `data` (a whole file) for the problems described in the module docs.
pub fn check_shared_library(data: &[u8]) -> Result<(), ElfProblem> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf64) => {}
        Ok(other) => {
            return Err(ElfProblem::NotALibrary(format!(
                "it is a {other:?} file, not a 64-bit ELF library"
            )));
        }
        Err(_) => return Err(ElfProblem::NotALibrary("it is not an ELF file".into())),
    }
    let corrupt = |e: object::read::Error| {
        ElfProblem::Corrupt(format!("its ELF headers cannot be read ({e})"))
    };
    let header = FileHeader64::<Endianness>::parse(data).map_err(corrupt)?;
    let endian = header.endian().map_err(corrupt)?;
    if header.e_type(endian) != ET_DYN {
        return Err(ElfProblem::NotALibrary(
            "it is an ELF file but not a shared object".into(),
        ));
    }
    let len = data.len() as u64;
    let sections_end = header
        .e_shoff(endian)
        .saturating_add(u64::from(header.e_shnum(endian)) * u64::from(header.e_shentsize(endian)));
    if sections_end > len {
        return Err(ElfProblem::Corrupt(format!(
            "it is truncated: its section table ends at byte {sections_end} but the file has {len} bytes"
        )));
    }
    for segment in header.program_headers(endian, data).map_err(corrupt)? {
        if segment.p_type(endian) != PT_LOAD {
            continue;
        }
        let end = segment
            .p_offset(endian)
            .saturating_add(segment.p_filesz(endian));
        if end > len {
            return Err(ElfProblem::Corrupt(format!(
                "it is truncated: a loadable segment ends at byte {end} but the file has {len} bytes"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_text_and_truncated_libraries() {
        assert!(matches!(
            check_shared_library(b"hello"),
            Err(ElfProblem::NotALibrary(_))
        ));
        // The running test binary is an ELF file; a prefix of it must be refused.
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let cut = &exe[..exe.len() / 2];
        assert!(check_shared_library(cut).is_err());
    }
}
