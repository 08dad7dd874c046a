/* cl/shape.cl - channel slices (concat forward/backward) and bilinear
 * resize with PyTorch's align_corners=False. */

/* Image n of x (Cx*HW floats) <-> channels [c0, c0 + Cx) of image n of y
 * (Cy*HW floats): one work-item per element of x. */
__kernel void channel_copy(GC_TENSOR(y), GC_TENSOR(x), int x_chw, int y_chw, int c0_hw, int to_y,
                           int total)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int n = i / x_chw;
    const int yi = y_off + n * y_chw + c0_hw + (i - n * x_chw);
    if (to_y)
        y[yi] = x[x_off + i];
    else
        x[x_off + i] = y[yi];
}

/* PyTorch's upsample_bilinear2d (align_corners=False): the source
 * coordinate of output pixel o is scale*(o + 0.5) - 0.5 clamped at 0, with
 * scale = in/out computed in float; the neighbour index saturates at the
 * last row/column. */
__kernel void resize_bilinear(GC_TENSOR(y), GC_CTENSOR(x), int ih, int iw, int oh, int ow,
                              float scale_h, float scale_w, int total)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int ox = i % ow, t = i / ow;
    const int oy = t % oh, plane = t / oh;
    const float fy = max(scale_h * ((float)oy + 0.5f) - 0.5f, 0.0f);
    const float fx = max(scale_w * ((float)ox + 0.5f) - 0.5f, 0.0f);
    const int y0 = min((int)fy, ih - 1), x0 = min((int)fx, iw - 1);
    const int y1 = y0 + (y0 < ih - 1 ? 1 : 0), x1 = x0 + (x0 < iw - 1 ? 1 : 0);
    const float ly1 = clamp(fy - (float)y0, 0.0f, 1.0f), ly0 = 1.0f - ly1;
    const float lx1 = clamp(fx - (float)x0, 0.0f, 1.0f), lx0 = 1.0f - lx1;
    __global const float *xp = x + x_off + plane * ih * iw;
    y[y_off + i] = ly0 * (lx0 * xp[y0 * iw + x0] + lx1 * xp[y0 * iw + x1]) +
                   ly1 * (lx0 * xp[y1 * iw + x0] + lx1 * xp[y1 * iw + x1]);
}
