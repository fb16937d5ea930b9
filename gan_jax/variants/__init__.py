"""GAN variants as recipes on the shared core (DESIGN.md: "Variants are recipes, not forks").

One module per variant; importing it registers its `Recipe` (see `gan_jax.recipes`).
A variant's options live in `config.variant`, its name in `config.recipe`.

  translation  the paired image-to-image step shared by pix2pix, superres, inpainting
  pix2pix      pix2pix (Isola et al. 2017): U-Net G, conditional PatchGAN D, adv + 100 L1
  superres     SRGAN-style super-resolution (Ledig et al. 2017): SRResNet G, adv + content
  inpainting   context-encoder-style inpainting (Pathak et al. 2016): adv + masked L2/L1
  cyclegan     CycleGAN (Zhu et al. 2017): two G, two D, cycle + identity, least squares
"""
