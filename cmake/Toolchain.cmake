# Build hygiene shared by every target: ccache, a fast linker, strict warnings, sanitizers.
find_program(TESSEL_CCACHE ccache)
if(TESSEL_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER ${TESSEL_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${TESSEL_CCACHE})
endif()

find_program(TESSEL_MOLD mold)
find_program(TESSEL_LLD ld.lld)
if(TESSEL_MOLD)
  add_link_options(-fuse-ld=mold)
elseif(TESSEL_LLD)
  add_link_options(-fuse-ld=lld)
endif()

add_compile_options(-Wall -Wextra -Wno-unused-parameter)
if(TESSEL_WERROR)
  add_compile_options(-Werror)
endif()

if(TESSEL_SANITIZE)
  add_compile_options(-fsanitize=${TESSEL_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  # GCC 12's -Wmaybe-uninitialized misfires inside libstdc++ (std::regex, std::function) under ASan.
  add_compile_options(-Wno-maybe-uninitialized)
  add_link_options(-fsanitize=${TESSEL_SANITIZE})
endif()
