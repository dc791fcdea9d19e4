;; The engine's WebAssembly SIMD kernels (float64, two lanes per v128).
;;
;; Assembled at build time by core/ops/wasm/assemble.mjs (wabt) into kernels.generated.ts, loaded by
;; core/ops/wasm.ts, which copies the operands into this module's memory, calls a kernel and copies the
;; results out into fresh arrays. The plain TypeScript kernels (core/ops/gemm.ts, the layers' loops) are
;; the fallback and the reference: every function here computes each result element with the same
;; operations in the same order as its TypeScript counterpart, so the results are the same float64
;; numbers (test/core/wasmKernels.test.ts checks it on random shapes).
;;
;; SIMD lanes always hold different result elements, never two terms of one sum: a sum over k is
;; accumulated in k order within a depth block of KC = 256 (the TypeScript kernel's block), starting
;; from 0, and the block sums are added to C in block order. There is no fused multiply-add (it would
;; round differently).
;;
;; All offsets are byte offsets into memory; strides are in elements (float64). The caller lays out
;; memory and guarantees that everything fits.
(module
  (memory (export "memory") 1 16384)

  ;; ------------------------------------------------------------------ packing

  ;; Copies one panel of 4 lanes × kc steps into dst as [k][lane] (4 doubles per step). Lane l of step
  ;; k is read at src + (l·sLane + k·sK)·8; lanes ≥ `lanes` are zero (the edge panel of a block).
  (func $pack_panel (param $src i32) (param $sLane i32) (param $sK i32) (param $lanes i32) (param $kc i32) (param $dst i32)
    (local $end i32) (local $step i32) (local $k i32) (local $l i32)
    (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (if (i32.eq (local.get $lanes) (i32.const 4))
      (then
        ;; The 4 lanes are adjacent in memory: copy 4 doubles per step.
        (if (i32.eq (local.get $sLane) (i32.const 1))
          (then
            (local.set $step (i32.shl (local.get $sK) (i32.const 3)))
            (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 5))))
            (loop $copy
              (v128.store (local.get $dst) (v128.load (local.get $src)))
              (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $step)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
              (br_if $copy (i32.lt_u (local.get $dst) (local.get $end))))
            (return)))
        ;; Each lane is contiguous along k: four streams, two steps at a time through 2×2 transposes.
        (if (i32.eq (local.get $sK) (i32.const 1))
          (then
            (local.set $step (i32.shl (local.get $sLane) (i32.const 3)))
            (local.set $s1 (i32.add (local.get $src) (local.get $step)))
            (local.set $s2 (i32.add (local.get $s1) (local.get $step)))
            (local.set $s3 (i32.add (local.get $s2) (local.get $step)))
            (local.set $k (i32.const 0))
            (block $pairs_done
              (loop $pairs
                (br_if $pairs_done (i32.gt_u (i32.add (local.get $k) (i32.const 2)) (local.get $kc)))
                (local.set $v0 (v128.load (local.get $src)))
                (local.set $v1 (v128.load (local.get $s1)))
                (local.set $v2 (v128.load (local.get $s2)))
                (local.set $v3 (v128.load (local.get $s3)))
                (v128.store (local.get $dst)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $v0) (local.get $v1)))
                (v128.store offset=16 (local.get $dst)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $v2) (local.get $v3)))
                (v128.store offset=32 (local.get $dst)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $v0) (local.get $v1)))
                (v128.store offset=48 (local.get $dst)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $v2) (local.get $v3)))
                (local.set $src (i32.add (local.get $src) (i32.const 16)))
                (local.set $s1 (i32.add (local.get $s1) (i32.const 16)))
                (local.set $s2 (i32.add (local.get $s2) (i32.const 16)))
                (local.set $s3 (i32.add (local.get $s3) (i32.const 16)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $pairs)))
            (if (i32.lt_u (local.get $k) (local.get $kc))
              (then
                (f64.store (local.get $dst) (f64.load (local.get $src)))
                (f64.store offset=8 (local.get $dst) (f64.load (local.get $s1)))
                (f64.store offset=16 (local.get $dst) (f64.load (local.get $s2)))
                (f64.store offset=24 (local.get $dst) (f64.load (local.get $s3)))))
            (return)))))
    ;; General strides, or an edge panel: one element at a time, zeros past the last lane.
    (local.set $k (i32.const 0))
    (loop $steps
      (local.set $l (i32.const 0))
      (loop $lanes_loop
        (f64.store (local.get $dst)
          (if (result f64) (i32.lt_u (local.get $l) (local.get $lanes))
            (then (f64.load (i32.add (local.get $src)
              (i32.shl (i32.add (i32.mul (local.get $l) (local.get $sLane)) (i32.mul (local.get $k) (local.get $sK))) (i32.const 3)))))
            (else (f64.const 0))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
        (local.set $l (i32.add (local.get $l) (i32.const 1)))
        (br_if $lanes_loop (i32.lt_u (local.get $l) (i32.const 4))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $steps (i32.lt_u (local.get $k) (local.get $kc)))))

  ;; ------------------------------------------------------------------ the 4×4 micro-kernel

  ;; C[mc × nc] (row stride ldc elements, at c) = or += the product of a block of op(A) (mc × kc) and a
  ;; block of op(B) (kc × nc). `over` (the first depth block of a product that does not accumulate)
  ;; writes C instead of adding to it. Each 4×4 tile keeps 8 accumulators (4 rows × 2 vectors of 2
  ;; columns); A values are splatted.
  ;; Where the blocks are is given by strides, so the same loop reads packed panels or the operands in
  ;; place: row r of the 4-row panel starting at row i0 is at aBase + (i0/4)·aPanel + r·aRowB, and moves
  ;; by aStep bytes per step of k; the 4 columns of the panel starting at column j0 are 4 adjacent
  ;; doubles at bBase + (j0/4)·bPanel, moving by bStep per step of k. In an edge panel the missing rows
  ;; re-read row 0 (their sums are not stored); missing columns read whatever follows (the caller pads
  ;; every operand by 32 bytes), and are not stored either.
  (func $macro (param $mc i32) (param $nc i32) (param $kc i32) (param $c i32) (param $ldc i32) (param $over i32)
               (param $aBase i32) (param $aPanel i32) (param $aRowB i32) (param $aStep i32)
               (param $bBase i32) (param $bPanel i32) (param $bStep i32) (param $tile i32)
    (local $j0 i32) (local $i0 i32) (local $w i32) (local $h i32) (local $k i32) (local $pb i32) (local $pbBase i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $cp i32) (local $rowb i32) (local $r i32) (local $q i32) (local $addr i32) (local $t f64)
    (local $a v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $rowb (i32.shl (local.get $ldc) (i32.const 3)))
    (local.set $j0 (i32.const 0))
    (loop $cols
      (local.set $w (select (i32.sub (local.get $nc) (local.get $j0)) (i32.const 4)
        (i32.lt_u (i32.sub (local.get $nc) (local.get $j0)) (i32.const 4))))
      (local.set $pbBase (i32.add (local.get $bBase) (i32.mul (i32.shr_u (local.get $j0) (i32.const 2)) (local.get $bPanel))))
      (local.set $i0 (i32.const 0))
      (loop $rows
        (local.set $h (select (i32.sub (local.get $mc) (local.get $i0)) (i32.const 4)
          (i32.lt_u (i32.sub (local.get $mc) (local.get $i0)) (i32.const 4))))
        (local.set $p0 (i32.add (local.get $aBase) (i32.mul (i32.shr_u (local.get $i0) (i32.const 2)) (local.get $aPanel))))
        (local.set $p1 (select (i32.add (local.get $p0) (local.get $aRowB)) (local.get $p0) (i32.gt_u (local.get $h) (i32.const 1))))
        (local.set $p2 (select (i32.add (local.get $p1) (local.get $aRowB)) (local.get $p0) (i32.gt_u (local.get $h) (i32.const 2))))
        (local.set $p3 (select (i32.add (local.get $p2) (local.get $aRowB)) (local.get $p0) (i32.gt_u (local.get $h) (i32.const 3))))
        (local.set $pb (local.get $pbBase))
        (local.set $k (local.get $kc))
        (local.set $c00 (v128.const i64x2 0 0))
        (local.set $c01 (v128.const i64x2 0 0))
        (local.set $c10 (v128.const i64x2 0 0))
        (local.set $c11 (v128.const i64x2 0 0))
        (local.set $c20 (v128.const i64x2 0 0))
        (local.set $c21 (v128.const i64x2 0 0))
        (local.set $c30 (v128.const i64x2 0 0))
        (local.set $c31 (v128.const i64x2 0 0))
        (loop $ks
          (local.set $b0 (v128.load (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          (local.set $a (v128.load64_splat (local.get $p0)))
          (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $a) (local.get $b0))))
          (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load64_splat (local.get $p1)))
          (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $a) (local.get $b0))))
          (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load64_splat (local.get $p2)))
          (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $a) (local.get $b0))))
          (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load64_splat (local.get $p3)))
          (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $a) (local.get $b0))))
          (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $a) (local.get $b1))))
          (local.set $p0 (i32.add (local.get $p0) (local.get $aStep)))
          (local.set $p1 (i32.add (local.get $p1) (local.get $aStep)))
          (local.set $p2 (i32.add (local.get $p2) (local.get $aStep)))
          (local.set $p3 (i32.add (local.get $p3) (local.get $aStep)))
          (local.set $pb (i32.add (local.get $pb) (local.get $bStep)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $ks (local.get $k)))
        (local.set $cp (i32.add (local.get $c)
          (i32.shl (i32.add (i32.mul (local.get $i0) (local.get $ldc)) (local.get $j0)) (i32.const 3))))
        (if (i32.and (i32.eq (local.get $w) (i32.const 4)) (i32.eq (local.get $h) (i32.const 4)))
          (then
            (if (local.get $over)
              (then
                (v128.store (local.get $cp) (local.get $c00))
                (v128.store offset=16 (local.get $cp) (local.get $c01))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (local.get $c10))
                (v128.store offset=16 (local.get $cp) (local.get $c11))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (local.get $c20))
                (v128.store offset=16 (local.get $cp) (local.get $c21))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (local.get $c30))
                (v128.store offset=16 (local.get $cp) (local.get $c31)))
              (else
                (v128.store (local.get $cp) (f64x2.add (v128.load (local.get $cp)) (local.get $c00)))
                (v128.store offset=16 (local.get $cp) (f64x2.add (v128.load offset=16 (local.get $cp)) (local.get $c01)))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (f64x2.add (v128.load (local.get $cp)) (local.get $c10)))
                (v128.store offset=16 (local.get $cp) (f64x2.add (v128.load offset=16 (local.get $cp)) (local.get $c11)))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (f64x2.add (v128.load (local.get $cp)) (local.get $c20)))
                (v128.store offset=16 (local.get $cp) (f64x2.add (v128.load offset=16 (local.get $cp)) (local.get $c21)))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (f64x2.add (v128.load (local.get $cp)) (local.get $c30)))
                (v128.store offset=16 (local.get $cp) (f64x2.add (v128.load offset=16 (local.get $cp)) (local.get $c31))))))
          (else
            ;; Edge tile: the accumulators go through the tile scratch; only existing elements are stored.
            (v128.store (local.get $tile) (local.get $c00))
            (v128.store offset=16 (local.get $tile) (local.get $c01))
            (v128.store offset=32 (local.get $tile) (local.get $c10))
            (v128.store offset=48 (local.get $tile) (local.get $c11))
            (v128.store offset=64 (local.get $tile) (local.get $c20))
            (v128.store offset=80 (local.get $tile) (local.get $c21))
            (v128.store offset=96 (local.get $tile) (local.get $c30))
            (v128.store offset=112 (local.get $tile) (local.get $c31))
            (local.set $r (i32.const 0))
            (loop $er
              (local.set $q (i32.const 0))
              (loop $eq
                (local.set $addr (i32.add (local.get $cp)
                  (i32.shl (i32.add (i32.mul (local.get $r) (local.get $ldc)) (local.get $q)) (i32.const 3))))
                (local.set $t (f64.load (i32.add (local.get $tile)
                  (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 2)) (local.get $q)) (i32.const 3)))))
                (f64.store (local.get $addr)
                  (if (result f64) (local.get $over)
                    (then (local.get $t))
                    (else (f64.add (f64.load (local.get $addr)) (local.get $t)))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br_if $eq (i32.lt_u (local.get $q) (local.get $w))))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $er (i32.lt_u (local.get $r) (local.get $h))))))
        (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
        (br_if $rows (i32.lt_u (local.get $i0) (local.get $mc))))
      (local.set $j0 (i32.add (local.get $j0) (i32.const 4)))
      (br_if $cols (i32.lt_u (local.get $j0) (local.get $nc)))))

  ;; `macro` for a packed op(A) (panels of [k][4 rows], zero-padded): one pointer, the rows at fixed
  ;; offsets, aStep 32 and aRowB 8 implied (the parameters are kept for the same signature).
  (func $macro_packed (param $mc i32) (param $nc i32) (param $kc i32) (param $c i32) (param $ldc i32) (param $over i32)
               (param $aBase i32) (param $aPanel i32) (param $aRowB i32) (param $aStep i32)
               (param $bBase i32) (param $bPanel i32) (param $bStep i32) (param $tile i32)
    (local $j0 i32) (local $i0 i32) (local $w i32) (local $h i32) (local $k i32) (local $pb i32) (local $pbBase i32)
    (local $p0 i32)
    (local $cp i32) (local $rowb i32) (local $r i32) (local $q i32) (local $addr i32) (local $t f64)
    (local $a v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $rowb (i32.shl (local.get $ldc) (i32.const 3)))
    (local.set $j0 (i32.const 0))
    (loop $cols
      (local.set $w (select (i32.sub (local.get $nc) (local.get $j0)) (i32.const 4)
        (i32.lt_u (i32.sub (local.get $nc) (local.get $j0)) (i32.const 4))))
      (local.set $pbBase (i32.add (local.get $bBase) (i32.mul (i32.shr_u (local.get $j0) (i32.const 2)) (local.get $bPanel))))
      (local.set $i0 (i32.const 0))
      (loop $rows
        (local.set $h (select (i32.sub (local.get $mc) (local.get $i0)) (i32.const 4)
          (i32.lt_u (i32.sub (local.get $mc) (local.get $i0)) (i32.const 4))))
        (local.set $p0 (i32.add (local.get $aBase) (i32.mul (i32.shr_u (local.get $i0) (i32.const 2)) (local.get $aPanel))))
        (local.set $pb (local.get $pbBase))
        (local.set $k (local.get $kc))
        (local.set $c00 (v128.const i64x2 0 0))
        (local.set $c01 (v128.const i64x2 0 0))
        (local.set $c10 (v128.const i64x2 0 0))
        (local.set $c11 (v128.const i64x2 0 0))
        (local.set $c20 (v128.const i64x2 0 0))
        (local.set $c21 (v128.const i64x2 0 0))
        (local.set $c30 (v128.const i64x2 0 0))
        (local.set $c31 (v128.const i64x2 0 0))
        (loop $ks
          (local.set $b0 (v128.load (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          (local.set $a (v128.load64_splat (local.get $p0)))
          (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $a) (local.get $b0))))
          (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load64_splat offset=8 (local.get $p0)))
          (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $a) (local.get $b0))))
          (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load64_splat offset=16 (local.get $p0)))
          (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $a) (local.get $b0))))
          (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load64_splat offset=24 (local.get $p0)))
          (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $a) (local.get $b0))))
          (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $a) (local.get $b1))))
          (local.set $p0 (i32.add (local.get $p0) (i32.const 32)))
          (local.set $pb (i32.add (local.get $pb) (local.get $bStep)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $ks (local.get $k)))
        (local.set $cp (i32.add (local.get $c)
          (i32.shl (i32.add (i32.mul (local.get $i0) (local.get $ldc)) (local.get $j0)) (i32.const 3))))
        (if (i32.and (i32.eq (local.get $w) (i32.const 4)) (i32.eq (local.get $h) (i32.const 4)))
          (then
            (if (local.get $over)
              (then
                (v128.store (local.get $cp) (local.get $c00))
                (v128.store offset=16 (local.get $cp) (local.get $c01))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (local.get $c10))
                (v128.store offset=16 (local.get $cp) (local.get $c11))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (local.get $c20))
                (v128.store offset=16 (local.get $cp) (local.get $c21))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (local.get $c30))
                (v128.store offset=16 (local.get $cp) (local.get $c31)))
              (else
                (v128.store (local.get $cp) (f64x2.add (v128.load (local.get $cp)) (local.get $c00)))
                (v128.store offset=16 (local.get $cp) (f64x2.add (v128.load offset=16 (local.get $cp)) (local.get $c01)))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (f64x2.add (v128.load (local.get $cp)) (local.get $c10)))
                (v128.store offset=16 (local.get $cp) (f64x2.add (v128.load offset=16 (local.get $cp)) (local.get $c11)))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (f64x2.add (v128.load (local.get $cp)) (local.get $c20)))
                (v128.store offset=16 (local.get $cp) (f64x2.add (v128.load offset=16 (local.get $cp)) (local.get $c21)))
                (local.set $cp (i32.add (local.get $cp) (local.get $rowb)))
                (v128.store (local.get $cp) (f64x2.add (v128.load (local.get $cp)) (local.get $c30)))
                (v128.store offset=16 (local.get $cp) (f64x2.add (v128.load offset=16 (local.get $cp)) (local.get $c31))))))
          (else
            ;; Edge tile: the accumulators go through the tile scratch; only existing elements are stored.
            (v128.store (local.get $tile) (local.get $c00))
            (v128.store offset=16 (local.get $tile) (local.get $c01))
            (v128.store offset=32 (local.get $tile) (local.get $c10))
            (v128.store offset=48 (local.get $tile) (local.get $c11))
            (v128.store offset=64 (local.get $tile) (local.get $c20))
            (v128.store offset=80 (local.get $tile) (local.get $c21))
            (v128.store offset=96 (local.get $tile) (local.get $c30))
            (v128.store offset=112 (local.get $tile) (local.get $c31))
            (local.set $r (i32.const 0))
            (loop $er
              (local.set $q (i32.const 0))
              (loop $eq
                (local.set $addr (i32.add (local.get $cp)
                  (i32.shl (i32.add (i32.mul (local.get $r) (local.get $ldc)) (local.get $q)) (i32.const 3))))
                (local.set $t (f64.load (i32.add (local.get $tile)
                  (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 2)) (local.get $q)) (i32.const 3)))))
                (f64.store (local.get $addr)
                  (if (result f64) (local.get $over)
                    (then (local.get $t))
                    (else (f64.add (f64.load (local.get $addr)) (local.get $t)))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br_if $eq (i32.lt_u (local.get $q) (local.get $w))))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $er (i32.lt_u (local.get $r) (local.get $h))))))
        (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
        (br_if $rows (i32.lt_u (local.get $i0) (local.get $mc))))
      (local.set $j0 (i32.add (local.get $j0) (i32.const 4)))
      (br_if $cols (i32.lt_u (local.get $j0) (local.get $nc)))))

  ;; ------------------------------------------------------------------ gemm

  ;; C[M×N] (row-major, at c) = op(A)·op(B), or += when flags & 1, with op(A)[i,k] at a + (i·aRow + k·aCol)·8
  ;; and op(B)[k,j] at b + (k·bRow + j·bCol)·8. M, N, K ≥ 1. flags & 2: pack op(A) into pA (MC×KC
  ;; doubles); flags & 4: pack op(B) into pB (KC×NC), which is required unless bCol = 1 (the micro-kernel
  ;; reads 4 adjacent columns). Unpacked operands are read in place; tile holds 16 doubles.
  ;; Blocking: NC columns of op(B) and KC steps of depth at once (GotoBLAS order), then MC rows of op(A).
  (func (export "gemm") (param $M i32) (param $N i32) (param $K i32)
        (param $a i32) (param $aRow i32) (param $aCol i32)
        (param $b i32) (param $bRow i32) (param $bCol i32)
        (param $c i32) (param $flags i32) (param $pA i32) (param $pB i32) (param $tile i32)
    (local $jc i32) (local $nc i32) (local $pc i32) (local $kc i32) (local $ic i32) (local $mc i32)
    (local $x0 i32) (local $over i32) (local $packA i32) (local $packB i32)
    (local $bBase i32) (local $bPanel i32) (local $bStep i32)
    (local.set $packA (i32.and (local.get $flags) (i32.const 2)))
    (local.set $packB (i32.and (local.get $flags) (i32.const 4)))
    (local.set $jc (i32.const 0))
    (loop $jcs
      (local.set $nc (select (i32.sub (local.get $N) (local.get $jc)) (global.get $NC)
        (i32.lt_u (i32.sub (local.get $N) (local.get $jc)) (global.get $NC))))
      (local.set $pc (i32.const 0))
      (loop $pcs
        (local.set $kc (select (i32.sub (local.get $K) (local.get $pc)) (global.get $KC)
          (i32.lt_u (i32.sub (local.get $K) (local.get $pc)) (global.get $KC))))
        (if (local.get $packB)
          (then
            ;; Pack op(B)[pc.., jc..] as panels of 4 columns.
            (local.set $x0 (i32.const 0))
            (loop $bp
              (call $pack_panel
                (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $pc) (local.get $bRow))
                  (i32.mul (i32.add (local.get $jc) (local.get $x0)) (local.get $bCol))) (i32.const 3)))
                (local.get $bCol) (local.get $bRow)
                (select (i32.sub (local.get $nc) (local.get $x0)) (i32.const 4)
                  (i32.lt_u (i32.sub (local.get $nc) (local.get $x0)) (i32.const 4)))
                (local.get $kc)
                (i32.add (local.get $pB) (i32.shl (i32.mul (local.get $x0) (local.get $kc)) (i32.const 3))))
              (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
              (br_if $bp (i32.lt_u (local.get $x0) (local.get $nc))))
            (local.set $bBase (local.get $pB))
            (local.set $bPanel (i32.shl (local.get $kc) (i32.const 5)))
            (local.set $bStep (i32.const 32)))
          (else
            (local.set $bBase (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $pc) (local.get $bRow)) (local.get $jc)) (i32.const 3))))
            (local.set $bPanel (i32.const 32))
            (local.set $bStep (i32.shl (local.get $bRow) (i32.const 3)))))
        (local.set $over (i32.and (i32.eqz (local.get $pc)) (i32.eqz (i32.and (local.get $flags) (i32.const 1)))))
        (local.set $ic (i32.const 0))
        (loop $ics
          (local.set $mc (select (i32.sub (local.get $M) (local.get $ic)) (global.get $MC)
            (i32.lt_u (i32.sub (local.get $M) (local.get $ic)) (global.get $MC))))
          (if (local.get $packA)
            (then
              ;; Pack op(A)[ic.., pc..] as panels of 4 rows.
              (local.set $x0 (i32.const 0))
              (loop $ap
                (call $pack_panel
                  (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (i32.add (local.get $ic) (local.get $x0)) (local.get $aRow))
                    (i32.mul (local.get $pc) (local.get $aCol))) (i32.const 3)))
                  (local.get $aRow) (local.get $aCol)
                  (select (i32.sub (local.get $mc) (local.get $x0)) (i32.const 4)
                    (i32.lt_u (i32.sub (local.get $mc) (local.get $x0)) (i32.const 4)))
                  (local.get $kc)
                  (i32.add (local.get $pA) (i32.shl (i32.mul (local.get $x0) (local.get $kc)) (i32.const 3))))
                (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
                (br_if $ap (i32.lt_u (local.get $x0) (local.get $mc))))
              (call $macro_packed (local.get $mc) (local.get $nc) (local.get $kc)
                (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $ic) (local.get $N)) (local.get $jc)) (i32.const 3)))
                (local.get $N) (local.get $over)
                (local.get $pA) (i32.shl (local.get $kc) (i32.const 5)) (i32.const 8) (i32.const 32)
                (local.get $bBase) (local.get $bPanel) (local.get $bStep) (local.get $tile)))
            (else
              (call $macro (local.get $mc) (local.get $nc) (local.get $kc)
                (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $ic) (local.get $N)) (local.get $jc)) (i32.const 3)))
                (local.get $N) (local.get $over)
                (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $ic) (local.get $aRow)) (i32.mul (local.get $pc) (local.get $aCol))) (i32.const 3)))
                (i32.shl (local.get $aRow) (i32.const 5)) (i32.shl (local.get $aRow) (i32.const 3)) (i32.shl (local.get $aCol) (i32.const 3))
                (local.get $bBase) (local.get $bPanel) (local.get $bStep) (local.get $tile))))
          (local.set $ic (i32.add (local.get $ic) (global.get $MC)))
          (br_if $ics (i32.lt_u (local.get $ic) (local.get $M))))
        (local.set $pc (i32.add (local.get $pc) (global.get $KC)))
        (br_if $pcs (i32.lt_u (local.get $pc) (local.get $K))))
      (local.set $jc (i32.add (local.get $jc) (global.get $NC)))
      (br_if $jcs (i32.lt_u (local.get $jc) (local.get $N)))))

  ;; ------------------------------------------------------------------ products of depth K ≤ 4

  ;; C[M×N] = op(A)·B, + bias (a row of N added after each sum, as Dense.forward's separate addition
  ;; did) when hasBias, for a depth K ≤ 4 (a layer with 2 inputs, dinputs over 3 classes): one pass over
  ;; C instead of 4×4 tiles of 2–4 steps. B is K×N row-major at b (the caller copies op(B) in in that
  ;; layout); op(A)[i, k] is at a + (i·aRow + k·aCol)·8. Each element is ((0 + a0·b0) + a1·b1) + … in k
  ;; order (one depth block: K < KC), as in every other path; two rows of C at a time share op(B)'s
  ;; loads, two columns per vector. M, N, K ≥ 1, K ≤ 4. (The loops for each K, with and without the
  ;; bias, are written out: the same body with 1–4 terms.)
  (func (export "gemm_smallk") (param $M i32) (param $N i32) (param $K i32)
        (param $a i32) (param $aRow i32) (param $aCol i32)
        (param $b i32) (param $c i32) (param $bias i32) (param $hasBias i32)
    (local $i i32) (local $pa i32) (local $pa1 i32) (local $pb i32) (local $pc i32) (local $pz i32) (local $end i32)
    (local $crow i32) (local $aRowB i32) (local $aColB i32) (local $pairsB i32) (local $odd i32)
    (local $rb1 i32) (local $rb2 i32) (local $rb3 i32)
    (local $a00 v128) (local $a01 v128) (local $a02 v128) (local $a03 v128) (local $a10 v128) (local $a11 v128) (local $a12 v128) (local $a13 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $bz v128)
    (local.set $aRowB (i32.shl (local.get $aRow) (i32.const 3)))
    (local.set $aColB (i32.shl (local.get $aCol) (i32.const 3)))
    (local.set $pairsB (i32.shl (i32.and (local.get $N) (i32.const -2)) (i32.const 3)))
    (local.set $odd (i32.and (local.get $N) (i32.const 1)))
    (local.set $rb1 (i32.shl (local.get $N) (i32.const 3)))
    (local.set $rb2 (i32.shl (local.get $N) (i32.const 4)))
    (local.set $rb3 (i32.mul (local.get $N) (i32.const 24)))
    (local.set $pa (local.get $a))
    (local.set $crow (local.get $c))
    (local.set $i (i32.const 0))
    (if (i32.eq (local.get $K) (i32.const 1))
      (then
    (if (local.get $hasBias)
      (then
        (block $rd1b
          (loop $rl1b
            (br_if $rd1b (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $M)))
            (local.set $pa1 (i32.add (local.get $pa) (local.get $aRowB)))
            (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
            (local.set $a10 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 0)))))
            (local.set $pb (local.get $b))
            (local.set $pz (local.get $bias))
            (local.set $pc (local.get $crow))
            (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
            (block $d1b2
              (loop $l1b2
                (br_if $d1b2 (i32.ge_u (local.get $pc) (local.get $end)))
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $bz (v128.load (local.get $pz)))
                (v128.store (local.get $pc) (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (local.get $bz)))
                (v128.store (i32.add (local.get $pc) (local.get $rb1)) (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a10) (local.get $b0))) (local.get $bz)))
                (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                (local.set $pz (i32.add (local.get $pz) (i32.const 16)))
                (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                (br $l1b2)))
            (if (local.get $odd)
              (then
                (f64.store (local.get $pc) (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.load (local.get $pz))))
                (f64.store (i32.add (local.get $pc) (local.get $rb1)) (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a10)) (f64.load (local.get $pb)))) (f64.load (local.get $pz))))
            ))
            (local.set $pa (i32.add (local.get $pa1) (local.get $aRowB)))
            (local.set $crow (i32.add (local.get $crow) (i32.shl (local.get $rb1) (i32.const 1))))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br $rl1b)))
        (if (i32.lt_u (local.get $i) (local.get $M))
          (then
            (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
            (local.set $pb (local.get $b))
            (local.set $pz (local.get $bias))
            (local.set $pc (local.get $crow))
            (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
            (block $d1b1
              (loop $l1b1
                (br_if $d1b1 (i32.ge_u (local.get $pc) (local.get $end)))
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $bz (v128.load (local.get $pz)))
                (v128.store (local.get $pc) (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (local.get $bz)))
                (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                (local.set $pz (i32.add (local.get $pz) (i32.const 16)))
                (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                (br $l1b1)))
            (if (local.get $odd)
              (then
                (f64.store (local.get $pc) (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.load (local.get $pz))))
            ))
          ))
      )
      (else
        (block $rd1p
          (loop $rl1p
            (br_if $rd1p (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $M)))
            (local.set $pa1 (i32.add (local.get $pa) (local.get $aRowB)))
            (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
            (local.set $a10 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 0)))))
            (local.set $pb (local.get $b))
            (local.set $pz (local.get $bias))
            (local.set $pc (local.get $crow))
            (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
            (block $d1p2
              (loop $l1p2
                (br_if $d1p2 (i32.ge_u (local.get $pc) (local.get $end)))
                (local.set $b0 (v128.load (local.get $pb)))
                (v128.store (local.get $pc) (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))))
                (v128.store (i32.add (local.get $pc) (local.get $rb1)) (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a10) (local.get $b0))))
                (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                (br $l1p2)))
            (if (local.get $odd)
              (then
                (f64.store (local.get $pc) (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))))
                (f64.store (i32.add (local.get $pc) (local.get $rb1)) (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a10)) (f64.load (local.get $pb)))))
            ))
            (local.set $pa (i32.add (local.get $pa1) (local.get $aRowB)))
            (local.set $crow (i32.add (local.get $crow) (i32.shl (local.get $rb1) (i32.const 1))))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br $rl1p)))
        (if (i32.lt_u (local.get $i) (local.get $M))
          (then
            (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
            (local.set $pb (local.get $b))
            (local.set $pz (local.get $bias))
            (local.set $pc (local.get $crow))
            (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
            (block $d1p1
              (loop $l1p1
                (br_if $d1p1 (i32.ge_u (local.get $pc) (local.get $end)))
                (local.set $b0 (v128.load (local.get $pb)))
                (v128.store (local.get $pc) (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))))
                (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                (br $l1p1)))
            (if (local.get $odd)
              (then
                (f64.store (local.get $pc) (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))))
            ))
          ))
      ))
      )
      (else
        (if (i32.eq (local.get $K) (i32.const 2))
          (then
        (if (local.get $hasBias)
          (then
            (block $rd2b
              (loop $rl2b
                (br_if $rd2b (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $M)))
                (local.set $pa1 (i32.add (local.get $pa) (local.get $aRowB)))
                (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                (local.set $a10 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 0)))))
                (local.set $a11 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 1)))))
                (local.set $pb (local.get $b))
                (local.set $pz (local.get $bias))
                (local.set $pc (local.get $crow))
                (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                (block $d2b2
                  (loop $l2b2
                    (br_if $d2b2 (i32.ge_u (local.get $pc) (local.get $end)))
                    (local.set $b0 (v128.load (local.get $pb)))
                    (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                    (local.set $bz (v128.load (local.get $pz)))
                    (v128.store (local.get $pc) (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))) (local.get $bz)))
                    (v128.store (i32.add (local.get $pc) (local.get $rb1)) (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a10) (local.get $b0))) (f64x2.mul (local.get $a11) (local.get $b1))) (local.get $bz)))
                    (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                    (local.set $pz (i32.add (local.get $pz) (i32.const 16)))
                    (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                    (br $l2b2)))
                (if (local.get $odd)
                  (then
                    (f64.store (local.get $pc) (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.load (local.get $pz))))
                    (f64.store (i32.add (local.get $pc) (local.get $rb1)) (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a10)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a11)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.load (local.get $pz))))
                ))
                (local.set $pa (i32.add (local.get $pa1) (local.get $aRowB)))
                (local.set $crow (i32.add (local.get $crow) (i32.shl (local.get $rb1) (i32.const 1))))
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $rl2b)))
            (if (i32.lt_u (local.get $i) (local.get $M))
              (then
                (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                (local.set $pb (local.get $b))
                (local.set $pz (local.get $bias))
                (local.set $pc (local.get $crow))
                (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                (block $d2b1
                  (loop $l2b1
                    (br_if $d2b1 (i32.ge_u (local.get $pc) (local.get $end)))
                    (local.set $b0 (v128.load (local.get $pb)))
                    (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                    (local.set $bz (v128.load (local.get $pz)))
                    (v128.store (local.get $pc) (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))) (local.get $bz)))
                    (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                    (local.set $pz (i32.add (local.get $pz) (i32.const 16)))
                    (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                    (br $l2b1)))
                (if (local.get $odd)
                  (then
                    (f64.store (local.get $pc) (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.load (local.get $pz))))
                ))
              ))
          )
          (else
            (block $rd2p
              (loop $rl2p
                (br_if $rd2p (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $M)))
                (local.set $pa1 (i32.add (local.get $pa) (local.get $aRowB)))
                (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                (local.set $a10 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 0)))))
                (local.set $a11 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 1)))))
                (local.set $pb (local.get $b))
                (local.set $pz (local.get $bias))
                (local.set $pc (local.get $crow))
                (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                (block $d2p2
                  (loop $l2p2
                    (br_if $d2p2 (i32.ge_u (local.get $pc) (local.get $end)))
                    (local.set $b0 (v128.load (local.get $pb)))
                    (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                    (v128.store (local.get $pc) (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))))
                    (v128.store (i32.add (local.get $pc) (local.get $rb1)) (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a10) (local.get $b0))) (f64x2.mul (local.get $a11) (local.get $b1))))
                    (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                    (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                    (br $l2p2)))
                (if (local.get $odd)
                  (then
                    (f64.store (local.get $pc) (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))))
                    (f64.store (i32.add (local.get $pc) (local.get $rb1)) (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a10)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a11)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))))
                ))
                (local.set $pa (i32.add (local.get $pa1) (local.get $aRowB)))
                (local.set $crow (i32.add (local.get $crow) (i32.shl (local.get $rb1) (i32.const 1))))
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $rl2p)))
            (if (i32.lt_u (local.get $i) (local.get $M))
              (then
                (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                (local.set $pb (local.get $b))
                (local.set $pz (local.get $bias))
                (local.set $pc (local.get $crow))
                (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                (block $d2p1
                  (loop $l2p1
                    (br_if $d2p1 (i32.ge_u (local.get $pc) (local.get $end)))
                    (local.set $b0 (v128.load (local.get $pb)))
                    (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                    (v128.store (local.get $pc) (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))))
                    (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                    (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                    (br $l2p1)))
                (if (local.get $odd)
                  (then
                    (f64.store (local.get $pc) (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))))
                ))
              ))
          ))
          )
          (else
            (if (i32.eq (local.get $K) (i32.const 3))
              (then
            (if (local.get $hasBias)
              (then
                (block $rd3b
                  (loop $rl3b
                    (br_if $rd3b (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $M)))
                    (local.set $pa1 (i32.add (local.get $pa) (local.get $aRowB)))
                    (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                    (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                    (local.set $a02 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 2)))))
                    (local.set $a10 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 0)))))
                    (local.set $a11 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 1)))))
                    (local.set $a12 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 2)))))
                    (local.set $pb (local.get $b))
                    (local.set $pz (local.get $bias))
                    (local.set $pc (local.get $crow))
                    (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                    (block $d3b2
                      (loop $l3b2
                        (br_if $d3b2 (i32.ge_u (local.get $pc) (local.get $end)))
                        (local.set $b0 (v128.load (local.get $pb)))
                        (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                        (local.set $b2 (v128.load (i32.add (local.get $pb) (local.get $rb2))))
                        (local.set $bz (v128.load (local.get $pz)))
                        (v128.store (local.get $pc) (f64x2.add (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))) (f64x2.mul (local.get $a02) (local.get $b2))) (local.get $bz)))
                        (v128.store (i32.add (local.get $pc) (local.get $rb1)) (f64x2.add (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a10) (local.get $b0))) (f64x2.mul (local.get $a11) (local.get $b1))) (f64x2.mul (local.get $a12) (local.get $b2))) (local.get $bz)))
                        (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                        (local.set $pz (i32.add (local.get $pz) (i32.const 16)))
                        (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                        (br $l3b2)))
                    (if (local.get $odd)
                      (then
                        (f64.store (local.get $pc) (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a02)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))) (f64.load (local.get $pz))))
                        (f64.store (i32.add (local.get $pc) (local.get $rb1)) (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a10)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a11)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a12)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))) (f64.load (local.get $pz))))
                    ))
                    (local.set $pa (i32.add (local.get $pa1) (local.get $aRowB)))
                    (local.set $crow (i32.add (local.get $crow) (i32.shl (local.get $rb1) (i32.const 1))))
                    (local.set $i (i32.add (local.get $i) (i32.const 2)))
                    (br $rl3b)))
                (if (i32.lt_u (local.get $i) (local.get $M))
                  (then
                    (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                    (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                    (local.set $a02 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 2)))))
                    (local.set $pb (local.get $b))
                    (local.set $pz (local.get $bias))
                    (local.set $pc (local.get $crow))
                    (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                    (block $d3b1
                      (loop $l3b1
                        (br_if $d3b1 (i32.ge_u (local.get $pc) (local.get $end)))
                        (local.set $b0 (v128.load (local.get $pb)))
                        (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                        (local.set $b2 (v128.load (i32.add (local.get $pb) (local.get $rb2))))
                        (local.set $bz (v128.load (local.get $pz)))
                        (v128.store (local.get $pc) (f64x2.add (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))) (f64x2.mul (local.get $a02) (local.get $b2))) (local.get $bz)))
                        (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                        (local.set $pz (i32.add (local.get $pz) (i32.const 16)))
                        (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                        (br $l3b1)))
                    (if (local.get $odd)
                      (then
                        (f64.store (local.get $pc) (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a02)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))) (f64.load (local.get $pz))))
                    ))
                  ))
              )
              (else
                (block $rd3p
                  (loop $rl3p
                    (br_if $rd3p (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $M)))
                    (local.set $pa1 (i32.add (local.get $pa) (local.get $aRowB)))
                    (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                    (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                    (local.set $a02 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 2)))))
                    (local.set $a10 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 0)))))
                    (local.set $a11 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 1)))))
                    (local.set $a12 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 2)))))
                    (local.set $pb (local.get $b))
                    (local.set $pz (local.get $bias))
                    (local.set $pc (local.get $crow))
                    (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                    (block $d3p2
                      (loop $l3p2
                        (br_if $d3p2 (i32.ge_u (local.get $pc) (local.get $end)))
                        (local.set $b0 (v128.load (local.get $pb)))
                        (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                        (local.set $b2 (v128.load (i32.add (local.get $pb) (local.get $rb2))))
                        (v128.store (local.get $pc) (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))) (f64x2.mul (local.get $a02) (local.get $b2))))
                        (v128.store (i32.add (local.get $pc) (local.get $rb1)) (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a10) (local.get $b0))) (f64x2.mul (local.get $a11) (local.get $b1))) (f64x2.mul (local.get $a12) (local.get $b2))))
                        (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                        (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                        (br $l3p2)))
                    (if (local.get $odd)
                      (then
                        (f64.store (local.get $pc) (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a02)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))))
                        (f64.store (i32.add (local.get $pc) (local.get $rb1)) (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a10)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a11)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a12)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))))
                    ))
                    (local.set $pa (i32.add (local.get $pa1) (local.get $aRowB)))
                    (local.set $crow (i32.add (local.get $crow) (i32.shl (local.get $rb1) (i32.const 1))))
                    (local.set $i (i32.add (local.get $i) (i32.const 2)))
                    (br $rl3p)))
                (if (i32.lt_u (local.get $i) (local.get $M))
                  (then
                    (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                    (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                    (local.set $a02 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 2)))))
                    (local.set $pb (local.get $b))
                    (local.set $pz (local.get $bias))
                    (local.set $pc (local.get $crow))
                    (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                    (block $d3p1
                      (loop $l3p1
                        (br_if $d3p1 (i32.ge_u (local.get $pc) (local.get $end)))
                        (local.set $b0 (v128.load (local.get $pb)))
                        (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                        (local.set $b2 (v128.load (i32.add (local.get $pb) (local.get $rb2))))
                        (v128.store (local.get $pc) (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))) (f64x2.mul (local.get $a02) (local.get $b2))))
                        (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                        (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                        (br $l3p1)))
                    (if (local.get $odd)
                      (then
                        (f64.store (local.get $pc) (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a02)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))))
                    ))
                  ))
              ))
              )
              (else
                (if (local.get $hasBias)
                  (then
                    (block $rd4b
                      (loop $rl4b
                        (br_if $rd4b (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $M)))
                        (local.set $pa1 (i32.add (local.get $pa) (local.get $aRowB)))
                        (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                        (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                        (local.set $a02 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 2)))))
                        (local.set $a03 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 3)))))
                        (local.set $a10 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 0)))))
                        (local.set $a11 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 1)))))
                        (local.set $a12 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 2)))))
                        (local.set $a13 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 3)))))
                        (local.set $pb (local.get $b))
                        (local.set $pz (local.get $bias))
                        (local.set $pc (local.get $crow))
                        (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                        (block $d4b2
                          (loop $l4b2
                            (br_if $d4b2 (i32.ge_u (local.get $pc) (local.get $end)))
                            (local.set $b0 (v128.load (local.get $pb)))
                            (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                            (local.set $b2 (v128.load (i32.add (local.get $pb) (local.get $rb2))))
                            (local.set $b3 (v128.load (i32.add (local.get $pb) (local.get $rb3))))
                            (local.set $bz (v128.load (local.get $pz)))
                            (v128.store (local.get $pc) (f64x2.add (f64x2.add (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))) (f64x2.mul (local.get $a02) (local.get $b2))) (f64x2.mul (local.get $a03) (local.get $b3))) (local.get $bz)))
                            (v128.store (i32.add (local.get $pc) (local.get $rb1)) (f64x2.add (f64x2.add (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a10) (local.get $b0))) (f64x2.mul (local.get $a11) (local.get $b1))) (f64x2.mul (local.get $a12) (local.get $b2))) (f64x2.mul (local.get $a13) (local.get $b3))) (local.get $bz)))
                            (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                            (local.set $pz (i32.add (local.get $pz) (i32.const 16)))
                            (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                            (br $l4b2)))
                        (if (local.get $odd)
                          (then
                            (f64.store (local.get $pc) (f64.add (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a02)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))) (f64.mul (f64x2.extract_lane 0 (local.get $a03)) (f64.load (i32.add (local.get $pb) (local.get $rb3))))) (f64.load (local.get $pz))))
                            (f64.store (i32.add (local.get $pc) (local.get $rb1)) (f64.add (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a10)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a11)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a12)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))) (f64.mul (f64x2.extract_lane 0 (local.get $a13)) (f64.load (i32.add (local.get $pb) (local.get $rb3))))) (f64.load (local.get $pz))))
                        ))
                        (local.set $pa (i32.add (local.get $pa1) (local.get $aRowB)))
                        (local.set $crow (i32.add (local.get $crow) (i32.shl (local.get $rb1) (i32.const 1))))
                        (local.set $i (i32.add (local.get $i) (i32.const 2)))
                        (br $rl4b)))
                    (if (i32.lt_u (local.get $i) (local.get $M))
                      (then
                        (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                        (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                        (local.set $a02 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 2)))))
                        (local.set $a03 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 3)))))
                        (local.set $pb (local.get $b))
                        (local.set $pz (local.get $bias))
                        (local.set $pc (local.get $crow))
                        (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                        (block $d4b1
                          (loop $l4b1
                            (br_if $d4b1 (i32.ge_u (local.get $pc) (local.get $end)))
                            (local.set $b0 (v128.load (local.get $pb)))
                            (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                            (local.set $b2 (v128.load (i32.add (local.get $pb) (local.get $rb2))))
                            (local.set $b3 (v128.load (i32.add (local.get $pb) (local.get $rb3))))
                            (local.set $bz (v128.load (local.get $pz)))
                            (v128.store (local.get $pc) (f64x2.add (f64x2.add (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))) (f64x2.mul (local.get $a02) (local.get $b2))) (f64x2.mul (local.get $a03) (local.get $b3))) (local.get $bz)))
                            (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                            (local.set $pz (i32.add (local.get $pz) (i32.const 16)))
                            (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                            (br $l4b1)))
                        (if (local.get $odd)
                          (then
                            (f64.store (local.get $pc) (f64.add (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a02)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))) (f64.mul (f64x2.extract_lane 0 (local.get $a03)) (f64.load (i32.add (local.get $pb) (local.get $rb3))))) (f64.load (local.get $pz))))
                        ))
                      ))
                  )
                  (else
                    (block $rd4p
                      (loop $rl4p
                        (br_if $rd4p (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $M)))
                        (local.set $pa1 (i32.add (local.get $pa) (local.get $aRowB)))
                        (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                        (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                        (local.set $a02 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 2)))))
                        (local.set $a03 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 3)))))
                        (local.set $a10 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 0)))))
                        (local.set $a11 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 1)))))
                        (local.set $a12 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 2)))))
                        (local.set $a13 (v128.load64_splat (i32.add (local.get $pa1) (i32.mul (local.get $aColB) (i32.const 3)))))
                        (local.set $pb (local.get $b))
                        (local.set $pz (local.get $bias))
                        (local.set $pc (local.get $crow))
                        (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                        (block $d4p2
                          (loop $l4p2
                            (br_if $d4p2 (i32.ge_u (local.get $pc) (local.get $end)))
                            (local.set $b0 (v128.load (local.get $pb)))
                            (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                            (local.set $b2 (v128.load (i32.add (local.get $pb) (local.get $rb2))))
                            (local.set $b3 (v128.load (i32.add (local.get $pb) (local.get $rb3))))
                            (v128.store (local.get $pc) (f64x2.add (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))) (f64x2.mul (local.get $a02) (local.get $b2))) (f64x2.mul (local.get $a03) (local.get $b3))))
                            (v128.store (i32.add (local.get $pc) (local.get $rb1)) (f64x2.add (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a10) (local.get $b0))) (f64x2.mul (local.get $a11) (local.get $b1))) (f64x2.mul (local.get $a12) (local.get $b2))) (f64x2.mul (local.get $a13) (local.get $b3))))
                            (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                            (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                            (br $l4p2)))
                        (if (local.get $odd)
                          (then
                            (f64.store (local.get $pc) (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a02)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))) (f64.mul (f64x2.extract_lane 0 (local.get $a03)) (f64.load (i32.add (local.get $pb) (local.get $rb3))))))
                            (f64.store (i32.add (local.get $pc) (local.get $rb1)) (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a10)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a11)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a12)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))) (f64.mul (f64x2.extract_lane 0 (local.get $a13)) (f64.load (i32.add (local.get $pb) (local.get $rb3))))))
                        ))
                        (local.set $pa (i32.add (local.get $pa1) (local.get $aRowB)))
                        (local.set $crow (i32.add (local.get $crow) (i32.shl (local.get $rb1) (i32.const 1))))
                        (local.set $i (i32.add (local.get $i) (i32.const 2)))
                        (br $rl4p)))
                    (if (i32.lt_u (local.get $i) (local.get $M))
                      (then
                        (local.set $a00 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 0)))))
                        (local.set $a01 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 1)))))
                        (local.set $a02 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 2)))))
                        (local.set $a03 (v128.load64_splat (i32.add (local.get $pa) (i32.mul (local.get $aColB) (i32.const 3)))))
                        (local.set $pb (local.get $b))
                        (local.set $pz (local.get $bias))
                        (local.set $pc (local.get $crow))
                        (local.set $end (i32.add (local.get $crow) (local.get $pairsB)))
                        (block $d4p1
                          (loop $l4p1
                            (br_if $d4p1 (i32.ge_u (local.get $pc) (local.get $end)))
                            (local.set $b0 (v128.load (local.get $pb)))
                            (local.set $b1 (v128.load (i32.add (local.get $pb) (local.get $rb1))))
                            (local.set $b2 (v128.load (i32.add (local.get $pb) (local.get $rb2))))
                            (local.set $b3 (v128.load (i32.add (local.get $pb) (local.get $rb3))))
                            (v128.store (local.get $pc) (f64x2.add (f64x2.add (f64x2.add (f64x2.add (v128.const i64x2 0 0) (f64x2.mul (local.get $a00) (local.get $b0))) (f64x2.mul (local.get $a01) (local.get $b1))) (f64x2.mul (local.get $a02) (local.get $b2))) (f64x2.mul (local.get $a03) (local.get $b3))))
                            (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                            (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
                            (br $l4p1)))
                        (if (local.get $odd)
                          (then
                            (f64.store (local.get $pc) (f64.add (f64.add (f64.add (f64.add (f64.const 0) (f64.mul (f64x2.extract_lane 0 (local.get $a00)) (f64.load (local.get $pb)))) (f64.mul (f64x2.extract_lane 0 (local.get $a01)) (f64.load (i32.add (local.get $pb) (local.get $rb1))))) (f64.mul (f64x2.extract_lane 0 (local.get $a02)) (f64.load (i32.add (local.get $pb) (local.get $rb2))))) (f64.mul (f64x2.extract_lane 0 (local.get $a03)) (f64.load (i32.add (local.get $pb) (local.get $rb3))))))
                        ))
                      ))
                  ))
              ))
          ))
      )))

  ;; ------------------------------------------------------------------ products with N ≤ 2 columns

  ;; C[M×N] = op(A)·op(B) (+ C when acc) for N ≤ 2 (a layer's dinputs over 2 inputs; with the problem
  ;; transposed by the caller, the dweights of a 2-input layer): 4×2 tiles, 4 accumulators (one vector
  ;; of the 2 columns per row) instead of 4×4 tiles half of whose lanes are wasted. op(B) is K×2
  ;; row-major at b (the caller packs it; with N = 1 its second column is never stored); op(A)[i, k] is
  ;; at a + (i·aRow + k·aCol)·8; C[i, j] at c + (i·cRow + j·cCol)·8 (so the caller can write Cᵀ). Sums
  ;; run in depth blocks of KC from 0 and the block sums are added in order, as in `gemm`. M, K ≥ 1.
  (func (export "gemm_n2") (param $M i32) (param $N i32) (param $K i32)
        (param $a i32) (param $aRow i32) (param $aCol i32)
        (param $b i32) (param $c i32) (param $cRow i32) (param $cCol i32) (param $acc i32)
    (local $i0 i32) (local $h i32) (local $pc i32) (local $kc i32) (local $k i32) (local $over i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $pb i32)
    (local $aRowB i32) (local $aStep i32) (local $r i32) (local $addr i32) (local $cRowB i32) (local $cColB i32)
    (local $bv v128) (local $a0 v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $v v128)
    (local.set $aRowB (i32.shl (local.get $aRow) (i32.const 3)))
    (local.set $aStep (i32.shl (local.get $aCol) (i32.const 3)))
    (local.set $cRowB (i32.shl (local.get $cRow) (i32.const 3)))
    (local.set $cColB (i32.shl (local.get $cCol) (i32.const 3)))
    (local.set $i0 (i32.const 0))
    (loop $rows
      (local.set $h (select (i32.sub (local.get $M) (local.get $i0)) (i32.const 4)
        (i32.lt_u (i32.sub (local.get $M) (local.get $i0)) (i32.const 4))))
      (local.set $pc (i32.const 0))
      (loop $blocks
        (local.set $kc (select (i32.sub (local.get $K) (local.get $pc)) (global.get $KC)
          (i32.lt_u (i32.sub (local.get $K) (local.get $pc)) (global.get $KC))))
        ;; Rows past the last re-read the first (their sums are not stored).
        (local.set $p0 (i32.add (local.get $a) (i32.add (i32.mul (local.get $i0) (local.get $aRowB)) (i32.mul (local.get $pc) (local.get $aStep)))))
        (local.set $p1 (select (i32.add (local.get $p0) (local.get $aRowB)) (local.get $p0) (i32.gt_u (local.get $h) (i32.const 1))))
        (local.set $p2 (select (i32.add (local.get $p1) (local.get $aRowB)) (local.get $p0) (i32.gt_u (local.get $h) (i32.const 2))))
        (local.set $p3 (select (i32.add (local.get $p2) (local.get $aRowB)) (local.get $p0) (i32.gt_u (local.get $h) (i32.const 3))))
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $pc) (i32.const 4))))
        (local.set $c0 (v128.const i64x2 0 0))
        (local.set $c1 (v128.const i64x2 0 0))
        (local.set $c2 (v128.const i64x2 0 0))
        (local.set $c3 (v128.const i64x2 0 0))
        (local.set $k (local.get $kc))
        (loop $ks
          (local.set $bv (v128.load (local.get $pb)))
          (local.set $c0 (f64x2.add (local.get $c0) (f64x2.mul (v128.load64_splat (local.get $p0)) (local.get $bv))))
          (local.set $c1 (f64x2.add (local.get $c1) (f64x2.mul (v128.load64_splat (local.get $p1)) (local.get $bv))))
          (local.set $c2 (f64x2.add (local.get $c2) (f64x2.mul (v128.load64_splat (local.get $p2)) (local.get $bv))))
          (local.set $c3 (f64x2.add (local.get $c3) (f64x2.mul (v128.load64_splat (local.get $p3)) (local.get $bv))))
          (local.set $p0 (i32.add (local.get $p0) (local.get $aStep)))
          (local.set $p1 (i32.add (local.get $p1) (local.get $aStep)))
          (local.set $p2 (i32.add (local.get $p2) (local.get $aStep)))
          (local.set $p3 (i32.add (local.get $p3) (local.get $aStep)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $ks (local.get $k)))
        (local.set $over (i32.and (i32.eqz (local.get $pc)) (i32.eqz (local.get $acc))))
        ;; Store the h rows' sums (lane 0 = column 0, lane 1 = column 1 when N = 2).
        (local.set $r (i32.const 0))
        (loop $st
          (local.set $v (select (local.get $c0)
            (select (local.get $c1) (select (local.get $c2) (local.get $c3) (i32.eq (local.get $r) (i32.const 2))) (i32.eq (local.get $r) (i32.const 1)))
            (i32.eqz (local.get $r))))
          (local.set $addr (i32.add (local.get $c) (i32.mul (i32.add (local.get $i0) (local.get $r)) (local.get $cRowB))))
          (f64.store (local.get $addr)
            (if (result f64) (local.get $over)
              (then (f64x2.extract_lane 0 (local.get $v)))
              (else (f64.add (f64.load (local.get $addr)) (f64x2.extract_lane 0 (local.get $v))))))
          (if (i32.eq (local.get $N) (i32.const 2))
            (then
              (local.set $addr (i32.add (local.get $addr) (local.get $cColB)))
              (f64.store (local.get $addr)
                (if (result f64) (local.get $over)
                  (then (f64x2.extract_lane 1 (local.get $v)))
                  (else (f64.add (f64.load (local.get $addr)) (f64x2.extract_lane 1 (local.get $v))))))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $st (i32.lt_u (local.get $r) (local.get $h))))
        (local.set $pc (i32.add (local.get $pc) (global.get $KC)))
        (br_if $blocks (i32.lt_u (local.get $pc) (local.get $K))))
      (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $i0) (local.get $M)))))

  ;; Blocking constants, read by core/ops/wasm.ts to size the pack buffers. KC must equal the
  ;; TypeScript kernel's (it is part of the summation order).
  (global $KC (export "KC") i32 (i32.const 256))
  (global $MC (export "MC") i32 (i32.const 128))
  (global $NC (export "NC") i32 (i32.const 1024))

  ;; ------------------------------------------------------------------ element-wise passes

  ;; C[i, j] = C[i, j] + bias[j] for every row (Dense.forward's bias, after the product).
  (func (export "add_row") (param $c i32) (param $bias i32) (param $M i32) (param $N i32)
    (local $i i32) (local $j i32) (local $p i32) (local $pairs i32)
    (local.set $pairs (i32.and (local.get $N) (i32.const -2)))
    (local.set $p (local.get $c))
    (local.set $i (i32.const 0))
    (loop $rows
      (local.set $j (i32.const 0))
      (block $pairs_done
        (loop $cols
          (br_if $pairs_done (i32.ge_u (local.get $j) (local.get $pairs)))
          (v128.store (local.get $p) (f64x2.add (v128.load (local.get $p))
            (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 3))))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $j (i32.add (local.get $j) (i32.const 2)))
          (br $cols)))
      (if (i32.lt_u (local.get $j) (local.get $N))
        (then
          (f64.store (local.get $p) (f64.add (f64.load (local.get $p))
            (f64.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 3))))))
          (local.set $p (i32.add (local.get $p) (i32.const 8)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $i) (local.get $M)))))

  ;; out[j] = Σ_i x[i, j], summed from 0 in row order (np.sum(x, axis=0)); out has N doubles.
  (func (export "sum_rows") (param $x i32) (param $out i32) (param $M i32) (param $N i32)
    (local $i i32) (local $j i32) (local $p i32) (local $pairs i32) (local $q i32)
    (local.set $pairs (i32.and (local.get $N) (i32.const -2)))
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $N) (i32.const 3)))
    (local.set $p (local.get $x))
    (local.set $i (i32.const 0))
    (block $done
      (br_if $done (i32.eqz (local.get $M)))
      (loop $rows
        (local.set $j (i32.const 0))
        (local.set $q (local.get $out))
        (block $pairs_done
          (loop $cols
            (br_if $pairs_done (i32.ge_u (local.get $j) (local.get $pairs)))
            (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (v128.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $cols)))
        (if (i32.lt_u (local.get $j) (local.get $N))
          (then
            (f64.store (local.get $q) (f64.add (f64.load (local.get $q)) (f64.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $i) (local.get $M))))))

  ;; out[i] = x[i] < 0 ? 0 : x[i] (ReLU forward: NaN and −0 pass through, as in the TypeScript loop).
  (func (export "relu_fwd") (param $x i32) (param $out i32) (param $n i32)
    (local $end i32) (local $v f64)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        ;; pmax(v, 0) is v < 0 ? 0 : v, lane by lane.
        (v128.store (local.get $out) (f64x2.pmax (v128.load (local.get $x)) (v128.const i64x2 0 0)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $v (f64.load (local.get $x)))
        (f64.store (local.get $out) (select (f64.const 0) (local.get $v) (f64.lt (local.get $v) (f64.const 0)))))))

  ;; out[i] = x[i] <= 0 ? 0 : g[i] (ReLU backward: the book's dinputs[inputs <= 0] = 0).
  (func (export "relu_bwd") (param $x i32) (param $g i32) (param $out i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $out)
          (v128.andnot (v128.load (local.get $g)) (f64x2.le (v128.load (local.get $x)) (v128.const i64x2 0 0))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (f64.store (local.get $out)
          (select (f64.const 0) (f64.load (local.get $g)) (f64.le (f64.load (local.get $x)) (f64.const 0)))))))
)
