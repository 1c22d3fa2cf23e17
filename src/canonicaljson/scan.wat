;; Finding whether a long string needs more than quotes around it in
;; Canonical JSON, eight UTF-16 units at a time, and whether UTF-8 input
;; holds a byte below 0x20 and where its ASCII ends are, sixteen bytes at a
;; time (WebAssembly SIMD).
;;
;; A string needs care if it holds a unit Canonical JSON escapes (`"`, `\`
;; or one below U+0020) or an unpaired surrogate, which Canonical JSON cannot
;; express. JavaScript regular expressions look at one unit at a time and
;; take 1-2 ns a unit on two-byte strings; this looks at eight.
;;
;; `src/canonicaljson/scanwasm.ts` holds the assembled module; regenerate it
;; with `node scripts/wasm.ts` after changing this file (a test checks that
;; the two agree).
(module
  (memory (export "memory") 1)

  ;; 1 if the `len` UTF-16 units (little-endian) at byte offset `ptr` need
  ;; care, else 0.
  (func (export "needsCare") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $end i32) (local $v v128) (local $u i32) (local $next i32)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $len) (i32.const 1))))
    (local.set $i (local.get $ptr))
    (block $done
      (loop $simd
        ;; Fewer than eight units left: the tail loop takes them.
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
        (local.set $v (v128.load (local.get $i)))
        (if (v128.any_true
              (v128.or
                (v128.or
                  (i16x8.lt_u (local.get $v) (i16x8.splat (i32.const 0x20)))
                  (i16x8.eq (local.get $v) (i16x8.splat (i32.const 0x22))))
                (i16x8.eq (local.get $v) (i16x8.splat (i32.const 0x5c)))))
          (then (return (i32.const 1))))
        (if (v128.any_true
              (i16x8.eq (v128.and (local.get $v) (i16x8.splat (i32.const 0xf800)))
                        (i16x8.splat (i32.const 0xd800))))
          (then
            ;; A surrogate among these eight: pair them up one by one. A pair
            ;; may end one unit past the eight; the next load starts after it.
            (local.set $next (i32.add (local.get $i) (i32.const 16)))
            (loop $pairs
              (local.set $u (i32.load16_u (local.get $i)))
              (if (i32.eq (i32.and (local.get $u) (i32.const 0xf800)) (i32.const 0xd800))
                (then
                  ;; A low surrogate met here has no high one before it.
                  (if (i32.ge_u (local.get $u) (i32.const 0xdc00)) (then (return (i32.const 1))))
                  ;; A high surrogate needs a low one right after it.
                  (if (i32.ge_u (i32.add (local.get $i) (i32.const 2)) (local.get $end)) (then (return (i32.const 1))))
                  (local.set $u (i32.load16_u (i32.add (local.get $i) (i32.const 2))))
                  (if (i32.ne (i32.and (local.get $u) (i32.const 0xfc00)) (i32.const 0xdc00)) (then (return (i32.const 1))))
                  (local.set $i (i32.add (local.get $i) (i32.const 2)))))
              (local.set $i (i32.add (local.get $i) (i32.const 2)))
              (br_if $pairs (i32.lt_u (local.get $i) (local.get $next))))
            (br $simd)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $simd)))
    ;; The last units, one by one, by the same rules.
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $u (i32.load16_u (local.get $i)))
        (if (i32.or (i32.or (i32.lt_u (local.get $u) (i32.const 0x20)) (i32.eq (local.get $u) (i32.const 0x22)))
                    (i32.eq (local.get $u) (i32.const 0x5c)))
          (then (return (i32.const 1))))
        (if (i32.eq (i32.and (local.get $u) (i32.const 0xf800)) (i32.const 0xd800))
          (then
            (if (i32.ge_u (local.get $u) (i32.const 0xdc00)) (then (return (i32.const 1))))
            (if (i32.ge_u (i32.add (local.get $i) (i32.const 2)) (local.get $end)) (then (return (i32.const 1))))
            (local.set $u (i32.load16_u (i32.add (local.get $i) (i32.const 2))))
            (if (i32.ne (i32.and (local.get $u) (i32.const 0xfc00)) (i32.const 0xdc00)) (then (return (i32.const 1))))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $tail)))
    (i32.const 0))

  ;; Where the last scanBytes found its first and last byte of 0x80 or
  ;; above (offsets from `ptr`), -1 if none.
  (global $first (export "first") (mut i32) (i32.const -1))
  (global $last (export "last") (mut i32) (i32.const -1))

  ;; 1 if any of the `len` bytes at `ptr` is below 0x20, else 0. In UTF-8
  ;; such a byte is always the character itself (every byte of a multi-byte
  ;; sequence is 0x80 or above), so JSON text without one has neither
  ;; whitespace nor a raw control character in a string. Also finds the
  ;; first and last non-ASCII byte (the globals): the text before and after
  ;; them maps to its bytes one to one.
  (func (export "scanBytes") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $end i32) (local $low v128) (local $acc v128) (local $control i32)
    (local $mask i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (local.set $low (i8x16.splat (i32.const 0x20)))
    ;; Bytes below 0x20: compare every block, branch once at the end.
    (local.set $i (local.get $ptr))
    (block $done
      (loop $blocks
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
        (local.set $acc (v128.or (local.get $acc) (i8x16.lt_u (v128.load (local.get $i)) (local.get $low))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $blocks)))
    (local.set $control (v128.any_true (local.get $acc)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $control
          (i32.or (local.get $control) (i32.lt_u (i32.load8_u (local.get $i)) (i32.const 0x20))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    ;; The first byte of 0x80 or above, from the start: one bit per byte.
    (global.set $first (i32.const -1))
    (local.set $i (local.get $ptr))
    (block $found
      (loop $forward
        (br_if $found (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
        (local.set $mask (i8x16.bitmask (v128.load (local.get $i))))
        (if (local.get $mask)
          (then
            (global.set $first (i32.add (i32.sub (local.get $i) (local.get $ptr)) (i32.ctz (local.get $mask))))
            (br $found)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $forward)))
    (if (i32.lt_s (global.get $first) (i32.const 0))
      (then
        (block $tail_found
          (loop $forward_tail
            (br_if $tail_found (i32.ge_u (local.get $i) (local.get $end)))
            (if (i32.ge_u (i32.load8_u (local.get $i)) (i32.const 0x80))
              (then
                (global.set $first (i32.sub (local.get $i) (local.get $ptr)))
                (br $tail_found)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $forward_tail)))))
    ;; The last one, from the end (none if there is no first).
    (global.set $last (i32.const -1))
    (if (i32.ge_s (global.get $first) (i32.const 0))
      (then
        (local.set $i (local.get $end))
        (block $back_found
          (loop $backward
            (br_if $back_found (i32.lt_u (i32.sub (local.get $i) (local.get $ptr)) (i32.const 16)))
            (local.set $mask (i8x16.bitmask (v128.load (i32.sub (local.get $i) (i32.const 16)))))
            (if (local.get $mask)
              (then
                (global.set $last
                  (i32.sub (i32.sub (local.get $i) (local.get $ptr)) (i32.sub (i32.clz (local.get $mask)) (i32.const 15))))
                (br $back_found)))
            (local.set $i (i32.sub (local.get $i) (i32.const 16)))
            (br $backward)))
        (if (i32.lt_s (global.get $last) (i32.const 0))
          (then
            (block $head_found
              (loop $backward_head
                (br_if $head_found (i32.le_u (local.get $i) (local.get $ptr)))
                (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                (if (i32.ge_u (i32.load8_u (local.get $i)) (i32.const 0x80))
                  (then
                    (global.set $last (i32.sub (local.get $i) (local.get $ptr)))
                    (br $head_found)))
                (br $backward_head)))))))
    (local.get $control))
)
