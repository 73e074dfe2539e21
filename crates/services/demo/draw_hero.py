# Draws the demo hero image hero-harbour.jpg (harbour city, flood barrier, storm at dawn).
# Run: python3 draw_hero.py  (needs Pillow; deterministic, writes next to this script)
import math
import os
import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter

W, H = 1600, 900
S = 2  # supersampling factor; everything is drawn at 2x and downsampled
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hero-harbour.jpg")
rng = random.Random(20240917)

HORIZON = 470  # far shoreline / waterline of the city
SUN_X = 930

# palette
SKY_TOP = (20, 27, 42)
SKY_MID = (48, 60, 84)
SKY_WARM = (196, 112, 78)
SKY_GLOW = (250, 186, 112)
HILL = (88, 84, 100)
CITY_FAR = (74, 74, 94)
CITY_NEAR = (36, 42, 58)
WINDOW = (255, 200, 110)
WINDOW_DIM = (214, 142, 80)
STEEL = (58, 70, 90)
STEEL_DARK = (34, 42, 57)
GATE = (70, 84, 104)
GATE_DARK = (46, 56, 73)
RIM = (240, 160, 94)
WATER_IN = (58, 68, 86)
WATER_DEEP = (14, 25, 38)
FOAM = (206, 214, 220)


def P(*xy):
    """Scale 1600x900 coordinates to the supersampled canvas."""
    return [v * S for v in xy]


def pts(seq):
    return [(x * S, y * S) for x, y in seq]


def lerp(a, b, t):
    return a + (b - a) * t


def mix(c1, c2, t):
    t = max(0.0, min(1.0, t))
    return tuple(int(round(lerp(a, b, t))) for a, b in zip(c1, c2))


def vgrad(img, y0, y1, stops):
    """Vertical gradient between y0 and y1 (1x units) through colour stops [(t, colour)]."""
    d = ImageDraw.Draw(img)
    for yy in range(int(y0 * S), int(y1 * S)):
        t = (yy / S - y0) / max(1e-6, (y1 - y0))
        for i in range(len(stops) - 1):
            ta, ca = stops[i]
            tb, cb = stops[i + 1]
            if ta <= t <= tb:
                c = mix(ca, cb, (t - ta) / max(1e-6, tb - ta))
                break
        else:
            c = stops[-1][1] if t > stops[-1][0] else stops[0][1]
        d.line([(0, yy), (W * S, yy)], fill=c)


def glow(img, cx, cy, rx, ry, colour, strength, power=1.8):
    """Soft radial glow composited onto img."""
    g = Image.radial_gradient("L").resize((int(2 * rx * S), int(2 * ry * S)))
    # radial_gradient is 0 at the centre and 181 at the middle of each edge
    g = g.point(lambda v: int(max(0.0, 1.0 - v / 181.0) ** power * strength))
    mask = Image.new("L", img.size, 0)
    mask.paste(g, (int((cx - rx) * S), int((cy - ry) * S)))
    img.paste(Image.new("RGB", img.size, colour), (0, 0), mask)


def layer():
    return Image.new("L", (W * S, H * S), 0)


def paint(img, mask, colour, alpha=255):
    if alpha != 255:
        mask = mask.point(lambda v: v * alpha // 255)
    img.paste(Image.new("RGB", img.size, colour), (0, 0), mask)


def cloud_deck(base, rmin, rmax, seed, top=-20, x0=-80, x1=1680):
    """Mask of a cloud deck covering the sky from `top` down to a lumpy lower edge.

    `base` is a function x -> y of the deck's mean lower edge; overlapping lumps
    hang below it, the way storm-cloud undersides look when lit from below.
    """
    r = random.Random(seed)
    m = layer()
    d = ImageDraw.Draw(m)
    edge = [(x, base(x) - rmax * 0.6) for x in range(x0, x1 + 20, 20)]
    d.polygon(pts([(x0, top)] + edge + [(x1, top)]), fill=255)
    x = x0
    while x < x1:
        rad = r.uniform(rmin, rmax)
        cy = base(x) - rad * r.uniform(0.15, 0.75)
        d.ellipse(P(x - rad * 1.7, cy - rad, x + rad * 1.7, cy + rad), fill=255)
        if r.random() < 0.5:  # a smaller lump tucked underneath
            r2 = rad * r.uniform(0.35, 0.6)
            cx2 = x + r.uniform(-rad, rad)
            cy2 = cy + rad * 0.75
            d.ellipse(P(cx2 - r2 * 1.6, cy2 - r2, cx2 + r2 * 1.6, cy2 + r2), fill=255)
        x += rad * r.uniform(1.1, 2.0)
    return m.filter(ImageFilter.GaussianBlur(0.8 * S))


def puffs(base, top, x0, x1, rmin, rmax, count, seed):
    """Mask of a low band of puffy clouds with a flat-ish bottom."""
    r = random.Random(seed)
    m = layer()
    d = ImageDraw.Draw(m)
    for _ in range(count):
        x = r.uniform(x0, x1)
        rad = r.uniform(rmin, rmax)
        cy = r.uniform(top + rad, base - rad * 0.2)
        d.ellipse(P(x - rad * 1.6, cy - rad, x + rad * 1.6, cy + rad), fill=255)
    d.rectangle(P(x0 - 300, base, x1 + 300, H), fill=0)
    return m.filter(ImageFilter.GaussianBlur(0.8 * S))


def lit_cloud(img, mask, body, lit, shift):
    """Draw a cloud whose underside is rimmed with warm light: lit shape, then body shifted up."""
    paint(img, mask, lit)
    up = ImageChops.offset(mask, 0, -int(shift * S))
    paint(img, up, body)


# ---------------------------------------------------------------------------
img = Image.new("RGB", (W * S, H * S), SKY_TOP)
d = ImageDraw.Draw(img)

# sky
vgrad(img, 0, HORIZON + 2, [
    (0.0, SKY_TOP), (0.45, SKY_MID), (0.72, (120, 92, 100)),
    (0.86, SKY_WARM), (1.0, SKY_GLOW)])
glow(img, SUN_X, HORIZON + 10, 700, 260, (255, 160, 92), 210, 1.2)
glow(img, SUN_X, HORIZON + 6, 260, 90, (255, 226, 160), 255, 1.4)

# storm clouds: low puffy banks near the horizon, then heavier decks overhead
lit_cloud(img, puffs(432, 392, -100, 1700, 10, 22, 90, 11), (124, 86, 94), (240, 160, 104), 3)
lit_cloud(img, puffs(408, 350, -100, 640, 16, 34, 40, 12), (92, 82, 104), (230, 138, 92), 5)
lit_cloud(img, puffs(404, 344, 1180, 1700, 16, 34, 34, 13), (92, 82, 104), (230, 138, 92), 5)
# hanging decks: lower edge rises towards the sun so a bright gap opens over the city
def deck_base(y0, dip, tilt, wave, ph):
    return lambda x: (y0 - dip * math.exp(-((x - SUN_X) / 380.0) ** 2) + tilt * (x - 800) / 800
                      + wave * math.sin(x / 230.0 + ph))
for base, dip, tilt, wave, ph, rr, seed, body, lit, sh in [
        (376, 80, -18, 14, 0.0, (14, 30), 21, (76, 76, 100), (236, 146, 96), 7),
        (318, 62, 30, 26, 1.7, (20, 42), 22, (56, 60, 84), (198, 116, 90), 8),
        (238, 50, -35, 30, 3.1, (28, 56), 23, (39, 46, 65), (118, 86, 94), 7),
        (138, 30, 25, 35, 0.8, (36, 72), 24, (25, 31, 46), (58, 60, 80), 6)]:
    lit_cloud(img, cloud_deck(deck_base(base, dip, tilt, wave, ph), rr[0], rr[1], seed), body, lit, sh)

# dawn light bleeding through the lower clouds
glow(img, SUN_X, HORIZON, 760, 200, (236, 140, 92), 90, 1.3)

# distant rain curtain falling from the clouds on the left
curtain = layer()
cd = ImageDraw.Draw(curtain)
for i in range(700):
    x = rng.uniform(20, 560)
    cd.line(P(x, rng.uniform(250, 330), x - 70, HORIZON), fill=rng.randint(120, 255), width=S)
curtain = curtain.filter(ImageFilter.GaussianBlur(2.5 * S))
paint(img, curtain, (128, 136, 156), 70)

# hills behind the city
hill = [(-10, HORIZON)]
for x in range(-10, 1620, 20):
    y = 430 + 18 * math.sin(x / 210.0) + 10 * math.sin(x / 77.0 + 1.3)
    hill.append((x, y))
hill.append((1620, HORIZON))
d.polygon(pts(hill), fill=HILL)

# far skyline (hazy)
x = -10
while x < 1300:
    w = rng.uniform(22, 55)
    h = rng.uniform(25, 95) * (1.25 if 380 < x < 760 else 1.0)
    d.rectangle(P(x, HORIZON - h, x + w, HORIZON), fill=CITY_FAR)
    x += w - rng.uniform(0, 8)

# harbour cranes on the far quay (left)
for cx, ch, flip in [(110, 150, 1), (205, 135, 1), (300, 160, -1)]:
    col = (58, 60, 80)
    d.rectangle(P(cx - 14, HORIZON - ch, cx - 9, HORIZON), fill=col)
    d.rectangle(P(cx + 9, HORIZON - ch, cx + 14, HORIZON), fill=col)
    d.rectangle(P(cx - 16, HORIZON - ch - 8, cx + 16, HORIZON - ch), fill=col)
    d.rectangle(P(cx - 60 * flip if flip > 0 else cx - 20, HORIZON - ch + 18,
                  cx + 20 if flip > 0 else cx + 60, HORIZON - ch + 24), fill=col)
    d.rectangle(P(cx - 16, HORIZON - 46, cx + 16, HORIZON - 40), fill=col)
    d.line(P(cx, HORIZON - ch - 8, cx - 50 * flip, HORIZON - ch + 18), fill=col, width=S)

# near skyline with lit windows
near = []
x = 330
while x < 1300:
    w = rng.uniform(30, 70)
    h = rng.uniform(40, 140)
    if 600 < x < 700:
        h = 215
    near.append((x, w, h))
    x += w + rng.uniform(-4, 6)
for x, w, h in near:
    top = HORIZON - h
    d.rectangle(P(x, top, x + w, HORIZON), fill=CITY_NEAR)
    if h > 190:  # slim tower with antenna
        d.line(P(x + w / 2, top, x + w / 2, top - 40), fill=CITY_NEAR, width=2 * S)
    elif rng.random() < 0.25:  # pitched roof
        d.polygon(pts([(x, top), (x + w / 2, top - w * 0.35), (x + w, top)]), fill=CITY_NEAR)
    for wy in range(int(top + 8), HORIZON - 8, 11):
        for wx in range(int(x + 6), int(x + w - 8), 10):
            r = rng.random()
            if r < 0.16:
                d.rectangle(P(wx, wy, wx + 4, wy + 5), fill=WINDOW)
            elif r < 0.24:
                d.rectangle(P(wx, wy, wx + 4, wy + 5), fill=WINDOW_DIM)

# old-town church spire and waterfront houses
d.polygon(pts([(450, HORIZON), (450, 360), (462, 300), (474, 360), (474, HORIZON)]), fill=CITY_NEAR)
x = 250
while x < 640:
    w = rng.uniform(18, 30)
    h = rng.uniform(22, 40)
    d.rectangle(P(x, HORIZON - h, x + w, HORIZON), fill=(44, 48, 66))
    d.polygon(pts([(x - 1, HORIZON - h), (x + w / 2, HORIZON - h - w * 0.55), (x + w + 1, HORIZON - h)]),
              fill=(44, 48, 66))
    if rng.random() < 0.6:
        d.rectangle(P(x + w / 2 - 2, HORIZON - h + 6, x + w / 2 + 2, HORIZON - h + 12), fill=WINDOW)
    x += w + 1
d.rectangle(P(-10, HORIZON - 4, 1320, HORIZON + 3), fill=(30, 36, 50))  # quay wall

# sheltered water inside the barrier (calmer)
BAR_NEAR = (-60, 745)
BAR_FAR = (1320, 598)
water_in = Image.new("RGB", img.size)
vgrad(water_in, HORIZON, 720, [(0.0, (150, 106, 96)), (0.25, WATER_IN), (1.0, (30, 42, 58))])
wm = layer()
ImageDraw.Draw(wm).rectangle(P(-10, HORIZON + 3, W + 10, 720), fill=255)
img.paste(water_in, (0, 0), wm)
glow(img, SUN_X, HORIZON + 20, 360, 90, (240, 160, 100), 170, 1.3)
d = ImageDraw.Draw(img)
d = ImageDraw.Draw(img)
# sun and window reflections: short horizontal strokes
for i in range(420):
    y = rng.uniform(HORIZON + 6, 690)
    spread = 40 + (y - HORIZON) * 0.9
    x = SUN_X + rng.gauss(0, spread * 0.5)
    ln = rng.uniform(8, 40) * (1 - (y - HORIZON) / 400)
    c = mix((255, 210, 140), (220, 130, 90), (y - HORIZON) / 200)
    d.line(P(x - ln, y, x + ln, y), fill=c, width=S)
for x, w, h in near:
    if rng.random() < 0.7:
        for k in range(5):
            y = HORIZON + 8 + k * 9 + rng.uniform(-2, 2)
            xx = x + w / 2 + rng.uniform(-w / 3, w / 3)
            d.line(P(xx - 3, y, xx + 3, y), fill=WINDOW_DIM, width=S)
for i in range(140):  # gentle ripples
    y = rng.uniform(HORIZON + 10, 690)
    x = rng.uniform(0, 1600)
    ln = rng.uniform(10, 50)
    d.line(P(x - ln, y, x + ln, y), fill=(76, 86, 106), width=S)


# headland (Gull Point) with lighthouse on the right
head = [(1230, HORIZON + 120)]
for x in range(1230, 1620, 10):
    t = (x - 1230) / 390
    y = HORIZON + 120 - 150 * math.sin(min(1, t * 1.6) * math.pi / 2) + 6 * math.sin(x / 13.0)
    head.append((x, y))
head += [(1620, HORIZON + 140), (1230, HORIZON + 140)]
d.polygon(pts(head), fill=(30, 34, 46))
d.polygon(pts([(x + 40, y + 30) for x, y in head[1:-2]] + [(1620, HORIZON + 140)]), fill=(24, 28, 38))
rim = [(x, y - 1) for x, y in head[1:-2]]
d.line(pts(rim), fill=(96, 78, 84), width=3 * S)
d.line(pts(rim[:len(rim) // 2]), fill=(170, 104, 82), width=2 * S)

LX, LB, LT = 1420, HORIZON - 20, 300  # lighthouse x, base y, top y
# beam
beam = layer()
ImageDraw.Draw(beam).polygon(pts([(LX, LT - 10), (960, 230), (1000, 345)]), fill=255)
beam = beam.filter(ImageFilter.GaussianBlur(6 * S))
fade = Image.linear_gradient("L").rotate(90, expand=True).resize(beam.size)  # dark left, bright right
fade = fade.point(lambda v: int(min(255, max(0, v - 150) * 255 / 60)))
beam = ImageChops.multiply(beam, fade)
paint(img, beam, (255, 228, 170), 70)
d.polygon(pts([(LX - 22, LB), (LX - 14, LT), (LX + 14, LT), (LX + 22, LB)]), fill=(214, 206, 196))
d.polygon(pts([(LX + 2, LB), (LX + 2, LT), (LX + 14, LT), (LX + 22, LB)]), fill=(150, 148, 156))
for band in (0.25, 0.6):
    y0 = lerp(LB, LT, band)
    y1 = lerp(LB, LT, band + 0.13)
    k0 = 22 - 8 * band
    k1 = 22 - 8 * (band + 0.13)
    d.polygon(pts([(LX - k0, y0), (LX - k1, y1), (LX + k1, y1), (LX + k0, y0)]), fill=(160, 58, 52))
d.rectangle(P(LX - 20, LT - 2, LX + 20, LT + 3), fill=(40, 44, 56))
d.rectangle(P(LX - 11, LT - 22, LX + 11, LT - 2), fill=(255, 224, 150))
d.polygon(pts([(LX - 15, LT - 22), (LX, LT - 38), (LX + 15, LT - 22)]), fill=(40, 44, 56))
glow(img, LX, LT - 12, 60, 60, (255, 220, 150), 200)
d.rectangle(P(LX - 2, LT - 44, LX + 2, LT - 36), fill=(40, 44, 56))


# ---------------------------------------------------------------------------
# the flood barrier: towers with raised gates, drawn in perspective
def bpos(u):
    """Screen point and scale at fraction u along the barrier (0 near-left, 1 far-right)."""
    depth = 1.0 + 0.75 * u
    wa, wb = (1 - u), u / 1.75
    t = wb / (wa + wb)
    return lerp(BAR_NEAR[0], BAR_FAR[0], t), lerp(BAR_NEAR[1], BAR_FAR[1], t), 1.0 / depth


N_TOWERS = 7
towers = [bpos(i / (N_TOWERS - 1)) for i in range(N_TOWERS)]
towers[0] = bpos(0.03)
d = ImageDraw.Draw(img)

# gates first (between towers)
for i in range(N_TOWERS - 1):
    xa, ya, sa = towers[i]
    xb, yb, sb = towers[i + 1]
    la, lb = xa + 22 * sa, xb - 22 * sb
    ta, tb = ya - 105 * sa, yb - 105 * sb
    sag = 10 * (sa + sb) / 2
    top = []
    for k in range(21):
        t = k / 20
        top.append((lerp(la, lb, t), lerp(ta, tb, t) + sag * math.sin(t * math.pi)))
    body = top + [(lb, yb + 30), (la, ya + 30)]
    d.polygon(pts(body), fill=GATE)
    # horizontal stiffening band and vertical ribs
    band = [(x, y + 34 * lerp(sa, sb, k / 20)) for k, (x, y) in enumerate(top)]
    d.line(pts(band), fill=GATE_DARK, width=int(6 * S * (sa + sb) / 2))
    band = [(x, y + 70 * lerp(sa, sb, k / 20)) for k, (x, y) in enumerate(top)]
    d.line(pts(band), fill=GATE_DARK, width=int(6 * S * (sa + sb) / 2))
    nrib = 9
    for k in range(1, nrib):
        t = k / nrib
        x = lerp(la, lb, t)
        y = lerp(ta, tb, t) + sag * math.sin(t * math.pi)
        d.line(P(x, y + 3, x, lerp(ya, yb, t) + 20), fill=GATE_DARK, width=int(2 * S * lerp(sa, sb, t)) or 1)
    d.line(pts(top), fill=RIM, width=int(3 * S))

# raised deck linking tower tops
deck_top, deck_bot = [], []
for i in range(N_TOWERS):
    x, y, s = towers[i]
    deck_top.append((x, y - 176 * s))
    deck_bot.append((x, y - 160 * s))
d.polygon(pts(deck_top + deck_bot[::-1]), fill=STEEL_DARK)
d.line(pts(deck_top), fill=(170, 110, 86), width=S)
for i in range(N_TOWERS - 1):  # light truss under the walkway
    (xa, ya), (xb, yb) = deck_bot[i], deck_bot[i + 1]
    n = 6
    for k in range(n):
        t0, t1 = k / n, (k + 1) / n
        d.line(pts([(lerp(xa, xb, t0), lerp(ya, yb, t0)),
                    (lerp(xa, xb, (t0 + t1) / 2), lerp(ya, yb, (t0 + t1) / 2) + 10 * towers[i][2]),
                    (lerp(xa, xb, t1), lerp(ya, yb, t1))]), fill=STEEL_DARK, width=S)

# towers with shell-shaped machinery housings
for x, y, s in towers:
    w = 22 * s
    d.rectangle(P(x - w, y - 170 * s, x + w, y + 30), fill=STEEL)
    d.rectangle(P(x + w * 0.35, y - 170 * s, x + w, y + 30), fill=STEEL_DARK)
    d.line(P(x - w, y - 168 * s, x - w, y + 10), fill=RIM, width=S)
    # housing: pointed shell
    hw, hb, ht = 38 * s, y - 170 * s, y - 240 * s
    shell = [(x - hw, hb)]
    for k in range(1, 20):
        a = k / 20
        shell.append((x - hw + 2 * hw * a, hb - (hb - ht) * math.sin(a * math.pi) ** 0.7))
    shell.append((x + hw, hb))
    d.polygon(pts(shell), fill=(52, 62, 80))
    d.polygon(pts([(x, ht)] + [p for p in shell if p[0] >= x] + [(x, hb)]), fill=(38, 46, 62))
    d.line(pts(shell[:11]), fill=RIM, width=2 * S)
    d.rectangle(P(x - hw, hb - 1, x + hw, hb + 5 * s), fill=STEEL_DARK)
    # lit window and warning light
    d.rectangle(P(x - 10 * s, hb - 22 * s, x - 2 * s, hb - 14 * s), fill=WINDOW)
    d.ellipse(P(x - 3 * s, ht - 9 * s, x + 3 * s, ht - 3 * s), fill=(255, 90, 60))
    glow(img, x, ht - 6 * s, 16 * s, 16 * s, (255, 90, 60), 140)
    d = ImageDraw.Draw(img)

# ---------------------------------------------------------------------------
# rough sea on the outside of the barrier (foreground)
def line_y(x):
    t = (x - BAR_NEAR[0]) / (BAR_FAR[0] - BAR_NEAR[0])
    return lerp(BAR_NEAR[1], BAR_FAR[1], max(0, min(1.2, t)))


rows = []
k = 0
while True:
    off = 14 + k * 9 + k * k * 1.6
    if line_y(0) + off > H + 40:
        break
    rows.append(off)
    k += 1

for ri, off in enumerate(rows):
    depth = ri / max(1, len(rows) - 1)
    amp = 4 + 22 * depth
    wl = rng.uniform(0.8, 1.25) * (90 + 260 * depth)
    ph = rng.uniform(0, 2 * math.pi)
    crest = []
    for xs in range(-40, 1660, 6):
        base = line_y(min(xs, 1400)) + off
        if xs > 1330:
            base += (xs - 1330) * 0.25
        v = math.sin(xs / wl * 2 * math.pi + ph)
        yy = base - amp * (1 - abs(v)) ** 1.6 + amp * 0.4 + 3 * math.sin(xs / 37.0 + ri)
        crest.append((xs, yy))
    col = mix((62, 76, 96), WATER_DEEP, depth ** 0.8)
    poly = crest + [(1660, H + 60), (-40, H + 60)]
    d.polygon(pts(poly), fill=col)
    # shaded back slope and lit crest line
    shade = [(x, y + amp * 0.55) for x, y in crest]
    d.line(pts(shade), fill=mix(col, (8, 14, 24), 0.35), width=int(max(1, amp * 0.35) * S))
    d.line(pts(crest), fill=mix(col, (200, 140, 110), 0.35 - 0.2 * depth), width=int((1 + depth * 2) * S))
    # whitecaps at the peaks
    for j in range(1, len(crest) - 1):
        x0, y0 = crest[j]
        if y0 < crest[j - 1][1] and y0 <= crest[j + 1][1] and rng.random() < 0.4:
            fw = rng.uniform(10, 26) * (0.5 + depth * 1.4)
            fh = fw * 0.28
            d.polygon(pts([(x0 - fw, y0 + fh * 0.9), (x0 - fw * 0.3, y0 - fh * 0.2),
                           (x0 + fw * 0.2, y0 - fh * 0.45), (x0 + fw, y0 + fh * 0.8),
                           (x0 + fw * 0.3, y0 + fh * 0.3)]), fill=FOAM)
            for _ in range(int(3 + depth * 6)):
                fx = x0 + rng.uniform(-fw, fw)
                fy = y0 + rng.uniform(0, fh * 3)
                rr = rng.uniform(0.8, 2.2) * (0.6 + depth)
                d.ellipse(P(fx - rr, fy - rr, fx + rr, fy + rr), fill=mix(FOAM, col, 0.3))
    # streaks of foam on the faces
    for _ in range(int(10 + 20 * depth)):
        fx = rng.uniform(-20, 1620)
        fy = line_y(min(fx, 1400)) + off + rng.uniform(0, amp * 1.6)
        ln = rng.uniform(6, 30) * (0.5 + depth)
        d.line(P(fx - ln, fy, fx + ln, fy + rng.uniform(-2, 2)), fill=mix(FOAM, col, 0.55), width=S)

# spray where the surge hits the gates: a few tall plumes plus low churn
spray = layer()
sd = ImageDraw.Draw(spray)
for i in range(N_TOWERS - 1):
    xa, ya, sa = towers[i]
    xb, yb, sb = towers[i + 1]
    for _ in range(40):  # low churn along the whole gate
        t = rng.uniform(0.02, 0.98)
        x, y, s = lerp(xa, xb, t), lerp(ya, yb, t), lerp(sa, sb, t)
        r = rng.uniform(4, 10) * s
        yy = y + 6 * s - rng.uniform(0, 22) * s
        sd.ellipse(P(x - r * 1.5, yy - r, x + r * 1.5, yy + r), fill=rng.randint(110, 200))
    if i in (1, 3, 4):  # a wave bursting against the gate
        t = rng.uniform(0.3, 0.7)
        x, y, s = lerp(xa, xb, t), lerp(ya, yb, t), lerp(sa, sb, t)
        for _ in range(36):
            hgt = rng.uniform(0, 1) ** 0.8
            cx = x + rng.gauss(0, 22 * s) * (0.4 + hgt)
            cy = y - hgt * 120 * s
            r = (14 - 8 * hgt) * s * rng.uniform(0.6, 1.3)
            sd.ellipse(P(cx - r, cy - r, cx + r, cy + r), fill=int(230 - 120 * hgt))
        for _ in range(25):  # flying droplets
            a_ = rng.uniform(-2.6, -0.5)
            dist = rng.uniform(60, 150) * s
            cx, cy = x + math.cos(a_) * dist, y - 40 * s + math.sin(a_) * dist
            r = rng.uniform(1.2, 3) * s
            sd.ellipse(P(cx - r, cy - r, cx + r, cy + r), fill=200)
spray = spray.filter(ImageFilter.GaussianBlur(1.5 * S))
paint(img, spray, (214, 220, 226), 230)
d = ImageDraw.Draw(img)
for i in range(N_TOWERS - 1):  # foam line along the gate feet
    xa, ya, sa = towers[i]
    xb, yb, sb = towers[i + 1]
    line = [(lerp(xa, xb, t / 20), lerp(ya, yb, t / 20) + 10 * lerp(sa, sb, t / 20)
             + 3 * math.sin(t * 1.7 + i)) for t in range(21)]
    d.line(pts(line), fill=FOAM, width=int(5 * S * sa))

# a pair of gulls
for gx, gy, gs in [(1130, 250, 1.0), (1178, 272, 0.75)]:
    d.line(pts([(gx - 14 * gs, gy - 2 * gs), (gx - 6 * gs, gy - 7 * gs), (gx, gy),
                (gx + 6 * gs, gy - 7 * gs), (gx + 14 * gs, gy - 2 * gs)]), fill=(26, 30, 40), width=int(2.4 * S * gs))

# ---------------------------------------------------------------------------
# rain streaks over everything
rain = layer()
rd = ImageDraw.Draw(rain)
for _ in range(1400):
    x = rng.uniform(-100, 1700)
    y = rng.uniform(-50, 900)
    ln = rng.uniform(18, 46)
    rd.line(P(x, y, x - ln * 0.28, y + ln), fill=rng.randint(60, 150), width=S)
rain = rain.filter(ImageFilter.GaussianBlur(0.6 * S))
paint(img, rain, (190, 200, 214), 95)

# vignette to focus on the barrier and dawn light
vig = Image.radial_gradient("L").resize((int(W * S * 1.5), int(H * S * 1.7)))
vig = vig.crop(((vig.width - W * S) // 2, (vig.height - H * S) // 2 - int(40 * S),
                (vig.width - W * S) // 2 + W * S, (vig.height - H * S) // 2 - int(40 * S) + H * S))
vig = vig.point(lambda v: int(max(0, v - 120) * 0.9))
paint(img, vig, (8, 12, 20))

# downsample and add a little film grain
final = img.resize((W, H), Image.LANCZOS)
noise = Image.frombytes("L", (W, H), random.Random(7).randbytes(W * H))
noise = noise.point(lambda v: 128 + (v - 128) // 16)
final = ImageChops.add(final, Image.merge("RGB", (noise,) * 3), 1.0, -128)
final.save(OUT, "JPEG", quality=82, progressive=True, optimize=True, subsampling="4:2:0")
print(OUT, os.path.getsize(OUT), "bytes")
