//! Tesseract as a library, loaded once by the OCR fork server.
//!
//! Starting the `tesseract` program costs about 0.1 s of CPU before it reads a pixel,
//! nearly all of it loading the English model; recognising a page takes the rest. The OCR
//! fork server loads `libtesseract` (at run time: docintel does not link it, and works
//! without it) and initialises the model once, before any untrusted input; each OCR child
//! is a fork of that process, so it starts with the model in memory and recognises its
//! pages behind the same walls as a parser (no files, no network, no programs). Nothing a
//! document does to the engine survives its child.
//!
//! Only the library's stable C API is used (`tesseract/capi.h`), with the pixels the
//! pipeline has already decoded: no image file, no Leptonica call.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::OnceLock;
use std::time::Instant;

/// The library's name on Debian and most distributions (Tesseract 5).
const LIBRARY: &str = "libtesseract.so.5";
/// Tesseract's fully automatic page segmentation (the `tesseract` program's default).
const PSM_AUTO: c_int = 3;
/// How long after the caller's deadline Tesseract's own falls.
const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_millis(5);

type Create = unsafe extern "C" fn() -> *mut c_void;
type Init3 = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> c_int;
type SetPageSegMode = unsafe extern "C" fn(*mut c_void, c_int);
type SetImage = unsafe extern "C" fn(*mut c_void, *const u8, c_int, c_int, c_int, c_int);
type SetSourceResolution = unsafe extern "C" fn(*mut c_void, c_int);
type Recognize = unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int;
type GetTsvText = unsafe extern "C" fn(*mut c_void, c_int) -> *mut c_char;
type DeleteText = unsafe extern "C" fn(*mut c_char);
type Clear = unsafe extern "C" fn(*mut c_void);
type MonitorCreate = unsafe extern "C" fn() -> *mut c_void;
type MonitorDelete = unsafe extern "C" fn(*mut c_void);
type MonitorSetDeadline = unsafe extern "C" fn(*mut c_void, c_int);
type Version = unsafe extern "C" fn() -> *const c_char;

/// An initialised Tesseract (English model), ready to recognise.
pub struct Engine {
    api: *mut c_void,
    /// One recognition at a time: the handle is not thread-safe.
    busy: std::sync::Mutex<()>,
    set_image: SetImage,
    set_source_resolution: SetSourceResolution,
    recognize: Recognize,
    get_tsv_text: GetTsvText,
    delete_text: DeleteText,
    clear: Clear,
    monitor_create: MonitorCreate,
    monitor_delete: MonitorDelete,
    monitor_set_deadline: MonitorSetDeadline,
    pub version: String,
    /// Keeps the functions above mapped; never unloaded.
    _library: libloading::Library,
}

// SAFETY: the handle is used under `busy` only, so by one thread at a time (the OCR fork
// server makes it before it forks; each forked child, one thread, uses its own copy).
unsafe impl Send for Engine {}
// SAFETY: as above.
unsafe impl Sync for Engine {}

static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();

/// Loads the engine into this process (once; later calls return the first outcome).
/// For the OCR fork server, while it is one thread and before any untrusted input.
///
/// Refused unless the environment holds `OMP_THREAD_LIMIT=1` (as the fork server's does):
/// the library's OpenMP reads it once, when loaded, and without it runs a team of threads
/// (which an OCR child may not start, and which spin, taking three times the CPU).
pub fn load() -> Result<&'static Engine, &'static str> {
    ENGINE.get_or_init(Engine::load).as_ref().map_err(|e| &**e)
}

/// The engine, if this process loaded one.
pub fn loaded() -> Option<&'static Engine> {
    ENGINE.get().and_then(|e| e.as_ref().ok())
}

fn symbol<T: Copy>(library: &libloading::Library, name: &str) -> Result<T, String> {
    // SAFETY: each `T` above is the C declaration of `name` in tesseract/capi.h.
    unsafe { library.get::<T>(name.as_bytes()) }
        .map(|s| *s)
        .map_err(|e| format!("{LIBRARY} has no {name}: {e}"))
}

impl Engine {
    fn load() -> Result<Engine, String> {
        if std::env::var_os("OMP_THREAD_LIMIT").is_none_or(|v| v != "1") {
            return Err(
                "OMP_THREAD_LIMIT=1 is not set: Tesseract would run a team of threads".to_owned(),
            );
        }
        // SAFETY: loading runs the library's initialisers (C++ statics, libgomp reading
        // its environment); none start threads.
        let library = unsafe { libloading::Library::new(LIBRARY) }
            .map_err(|e| format!("could not load {LIBRARY}: {e}"))?;
        let version: Version = symbol(&library, "TessVersion")?;
        let create: Create = symbol(&library, "TessBaseAPICreate")?;
        let init: Init3 = symbol(&library, "TessBaseAPIInit3")?;
        let set_psm: SetPageSegMode = symbol(&library, "TessBaseAPISetPageSegMode")?;
        // SAFETY: TessVersion returns a static C string.
        let version = unsafe { CStr::from_ptr(version()) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: the C API's constructor; the handle lives as long as this process.
        let api = unsafe { create() };
        if api.is_null() {
            return Err("TessBaseAPICreate failed".to_owned());
        }
        // SAFETY: `api` is a live handle; a null data path means Tesseract's own default
        // (TESSDATA_PREFIX, else where it was installed); the language is a C string.
        if unsafe { init(api, std::ptr::null(), c"eng".as_ptr()) } != 0 {
            return Err("Tesseract could not load its English model (eng.traineddata)".to_owned());
        }
        // SAFETY: `api` is a live, initialised handle.
        unsafe { set_psm(api, PSM_AUTO) };
        Ok(Engine {
            api,
            busy: std::sync::Mutex::new(()),
            set_image: symbol(&library, "TessBaseAPISetImage")?,
            set_source_resolution: symbol(&library, "TessBaseAPISetSourceResolution")?,
            recognize: symbol(&library, "TessBaseAPIRecognize")?,
            get_tsv_text: symbol(&library, "TessBaseAPIGetTsvText")?,
            delete_text: symbol(&library, "TessDeleteText")?,
            clear: symbol(&library, "TessBaseAPIClear")?,
            monitor_create: symbol(&library, "TessMonitorCreate")?,
            monitor_delete: symbol(&library, "TessMonitorDelete")?,
            monitor_set_deadline: symbol(&library, "TessMonitorSetDeadlineMSecs")?,
            version,
            _library: library,
        })
    }

    /// Recognises one page (`dpi`: its resolution when known, else Tesseract estimates it
    /// from the text's size, as its program does for an image that does not say) and
    /// returns its words as Tesseract's TSV, stopping at `deadline`.
    pub fn tsv(
        &self,
        image: &image::DynamicImage,
        dpi: Option<u32>,
        deadline: Instant,
    ) -> Result<String, String> {
        // Colour stays colour, as the program reads it (Tesseract thresholds each channel).
        // Grey and RGB pixels are lent as they are: a 40-megapixel page is not copied.
        let converted;
        let (pixels, depth): (&[u8], c_int) = match image {
            image::DynamicImage::ImageLuma8(grey) => (grey.as_raw(), 1),
            image::DynamicImage::ImageRgb8(rgb) => (rgb.as_raw(), 3),
            other if other.color().has_color() => {
                converted = other.to_rgb8().into_raw();
                (&converted, 3)
            }
            other => {
                converted = other.to_luma8().into_raw();
                (&converted, 1)
            }
        };
        let (Ok(width), Ok(height)) = (
            c_int::try_from(image.width()),
            c_int::try_from(image.height()),
        ) else {
            return Err("the image is too large to read".to_owned());
        };
        let Some(row) = width.checked_mul(depth) else {
            return Err("the image is too large to read".to_owned());
        };
        let _busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        // Tesseract's deadline a little after ours: recognition cut short by it returns
        // as if done, so only the clock, past ours, tells that it was.
        let left = deadline.saturating_duration_since(Instant::now()) + DEADLINE_MARGIN;
        let millis = c_int::try_from(left.as_millis()).unwrap_or(c_int::MAX);
        // SAFETY: `api` is this process's live handle; the pixels are `height` rows of
        // `row` bytes (`depth` per pixel) and outlive the recognition (SetImage copies
        // them); the monitor is created, used and deleted here.
        unsafe {
            (self.set_image)(self.api, pixels.as_ptr(), width, height, depth, row);
            if let Some(dpi) = dpi.and_then(|d| c_int::try_from(d).ok()) {
                (self.set_source_resolution)(self.api, dpi);
            }
            let monitor = (self.monitor_create)();
            (self.monitor_set_deadline)(monitor, millis);
            let failed = (self.recognize)(self.api, monitor) != 0;
            (self.monitor_delete)(monitor);
            if failed || Instant::now() >= deadline {
                (self.clear)(self.api);
                return Err(if failed && Instant::now() < deadline {
                    "OCR (tesseract) failed on the image".to_owned()
                } else {
                    "OCR (tesseract) did not finish in time and was stopped".to_owned()
                });
            }
            let text = (self.get_tsv_text)(self.api, 0);
            let tsv = if text.is_null() {
                String::new()
            } else {
                let tsv = CStr::from_ptr(text).to_string_lossy().into_owned();
                (self.delete_text)(text);
                tsv
            };
            (self.clear)(self.api);
            Ok(tsv)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::Duration;

    // As the OCR fork server starts: set while the test binary is one thread.
    // SAFETY (of running before main): nothing else runs yet to read the environment.
    #[ctor::ctor]
    fn one_openmp_thread() {
        // SAFETY: as above.
        unsafe { std::env::set_var("OMP_THREAD_LIMIT", "1") };
    }

    /// A line of black text on white, drawn by pdftoppm from a one-line PDF: as PNG, and
    /// decoded.
    pub(crate) fn text_image() -> Option<(Vec<u8>, image::DynamicImage)> {
        let pdf = docintel_testkit::pdf(&["Invoice number 2026 total due"]);
        let tools = crate::pipeline::Tools::detect();
        let deadline = Instant::now() + Duration::from_secs(30);
        let png = tools.render_pdf(&pdf, 1, 1, 1600, deadline)?.ok()?.pop()?;
        let img = image::load_from_memory(&png).ok()?;
        Some((png, img))
    }

    fn words(tsv: &str) -> Vec<String> {
        crate::pipeline::layout::page_from_tsv(tsv, 1)
            .text()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn reads_what_the_tesseract_program_reads() {
        let engine = load().expect("libtesseract (the tesseract-ocr package) is installed");
        assert!(engine.version.starts_with('5'), "{}", engine.version);
        let (png, img) = text_image().expect("pdftoppm draws the page");
        let deadline = Instant::now() + Duration::from_secs(30);
        let ours = engine.tsv(&img, None, deadline).expect("recognised");
        let theirs = crate::pipeline::Tools::detect()
            .ocr_tsv(&png, deadline)
            .expect("tesseract is installed")
            .expect("the program reads it");
        assert_eq!(words(&ours), words(&theirs));
        assert!(words(&ours).contains(&"Invoice".to_owned()), "{ours}");
        // The engine is ready again for the next page.
        assert_eq!(
            words(&engine.tsv(&img, None, deadline).expect("again")),
            words(&ours)
        );
    }

    #[test]
    fn stops_at_the_deadline() {
        let engine = load().expect("libtesseract is installed");
        let (_, img) = text_image().expect("pdftoppm draws the page");
        let err = engine
            .tsv(&img, None, Instant::now())
            .expect_err("no time left");
        assert!(err.contains("did not finish in time"), "{err}");
    }

    #[test]
    fn a_blank_image_has_no_words() {
        let engine = load().expect("libtesseract is installed");
        let blank = image::DynamicImage::new_luma8(1, 1);
        let tsv = engine
            .tsv(&blank, None, Instant::now() + Duration::from_secs(30))
            .expect("read");
        assert!(words(&tsv).is_empty(), "{tsv}");
    }
}
